# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test bench lint format docs clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

install: $(STAMP)

# Starts Redis (private, when none is configured), the development SMSC, the
# development WhatsApp Graph API and the server with demo data, in the foreground.
# Ctrl-C stops everything it started.
run: install
	$(BIN)/python -m ussd_server dev

# The browser tests use Debian's chromium, the cluster tests redis-server and redis-cli
# (installed here when missing, as root).
test: install
	@scripts/ensure-redis.sh
	@scripts/ensure-chromium.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks: registry import, booking, USSD hops (wrk), SMS blast throughput,
# USSD over SMPP and WhatsApp webhooks.
bench: install
	@scripts/ensure-bench-tools.sh
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Regenerates docs/configuration.md from config.toml.
docs: install
	$(BIN)/python scripts/config_reference.py --update

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var/ .pytest_cache .ruff_cache *.egg-info
