"""`python -m bench` (what `make bench` runs): every channel's benchmark in turn.

    python -m bench                      # registry, USSD, SMS, USSD over SMPP, web, WhatsApp
    python -m bench --only ussd          # one of the names below, e.g. sms_segments, whatsapp
    python -m bench registry --workers 100000   # arguments after the name go to it

Each benchmark starts what it needs (server processes, the SMSC simulator),
uses its own Redis database and key prefix on 127.0.0.1:6379, deletes exactly
its own keys afterwards, and prints throughput and latency percentiles.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

BENCHMARKS = {
    "registry": "bench.registry",  # import rate (1M health workers) and booking rate
    "ussd": "bench.ussd",  # wrk-driven *119# journeys, 1 and 2 workers
    "ussd_instructions": "bench.ussd_instructions",  # the same, instructions per hop (callgrind)
    "sms": "bench.sms",  # blast run processes: throughput, CPU, shared rate limit, a drop
    "sms_segments": "bench.sms_segments",  # SMS segments one two-way SMS registration costs
    "ussd_smpp": "bench.ussd_smpp",  # *119# registrations over an SMPP bind, via the simulator
    "web": "bench.web",  # whole registrations on /daftar over HTTP (no browser)
    "whatsapp": "bench.whatsapp",  # webhooks through the server to the dev Graph API
    "cluster": "bench.cluster",  # one Redis vs a 3-master cluster, WAIT off vs on
    "far_replica": "bench.far_replica",  # bookings WAITing for a replica 2 ms away
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", nargs="?", choices=sorted(BENCHMARKS), help="run only this one")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), help="run only this one")
    args, rest = parser.parse_known_args(argv)
    chosen = args.name or args.only
    names = [chosen] if chosen else list(BENCHMARKS)
    failures = 0
    for name in names:
        print(f"\n===== benchmark: {name} =====", flush=True)
        started = time.monotonic()
        module = importlib.import_module(BENCHMARKS[name])
        code = module.main(rest if chosen else [])
        print(
            f"===== {name}: exit {code}, {time.monotonic() - started:.1f}s wall =====", flush=True
        )
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
