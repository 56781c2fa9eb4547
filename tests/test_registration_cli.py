"""The registry commands, run in-process against the test Redis (own key prefix)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.conftest import TEST_REDIS_URL
from tests.test_registration_support import FAC_HEADER, STANDARD_FACILITIES, WORKER_HEADER, nik
from ussd_server import cli


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, key_prefix: str, redis: aioredis.Redis) -> None:
    """Point the CLI at the test Redis; the ``redis`` fixture deletes the keys afterwards."""
    monkeypatch.setenv("USSD_REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("USSD_REDIS_KEY_PREFIX", key_prefix)
    monkeypatch.setenv("USSD_TICKETS_SIGNING_KEY", "cli-test-key")


def test_import_reports_bad_rows_capped(
    env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facilities = tmp_path / "f.csv"
    facilities.write_text(FAC_HEADER + "\n".join(STANDARD_FACILITIES) + "\n", "utf-8")
    assert cli.main(["import", "facilities", str(facilities)]) == 0
    assert "facilities: 4 rows ok, 0 bad" in capsys.readouterr().out

    rows = [f"{nik(i)},Pekerja {i},0812{i:08d},Perawat,PKM-01" for i in range(3)]
    rows += [f"{nik(100 + i)},Salah {i},0812{i:08d},Perawat,NOPE" for i in range(60)]
    workers = tmp_path / "w.csv"
    workers.write_text(WORKER_HEADER + "\n".join(rows) + "\n", "utf-8")
    assert cli.main(["import", "health-workers", str(workers)]) == 0
    out = capsys.readouterr().out
    assert "health-workers: 3 rows ok, 60 bad" in out
    assert "  line 5: unknown facility_id 'NOPE'" in out
    assert out.count("unknown facility_id") == 50
    assert "... and 10 more bad rows" in out

    assert cli.main(["status", "--phone", "081200000001"]) == 0
    status = capsys.readouterr().out
    assert "Pekerja 1" in status and nik(1) not in status  # the NIK is masked
    assert cli.main(["status", "--phone", "081299999999"]) == 1
    assert cli.main(["check-in", "VX1.AAAA.B.20210101.pagi.1.XXXX", "--facility", "PKM-01"]) == 1
    assert "FORGED" in capsys.readouterr().out
    assert cli.main(["import", "facilities", str(tmp_path / "missing.csv")]) == 2
    assert "no such file: " in capsys.readouterr().err
    assert cli.main(["import", "facilities", str(tmp_path)]) == 2
    assert "not a regular file: " in capsys.readouterr().err


@pytest.mark.parametrize("count", ["0", "-5", "²"])
def test_demo_data_wants_at_least_one_worker(
    env: None, count: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["demo-data", "--workers", count, "--no-load"])
    assert exited.value.code == 2
    assert "a whole number, at least 1" in capsys.readouterr().err


def test_demo_data_writes_and_loads(
    env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["demo-data", "--workers", "300", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "health workers: 300 rows ok, 0 bad" in out
    assert "facilities: 61 rows ok, 0 bad" in out
    pairs = [line.split() for line in out.splitlines() if line.startswith("  62")]
    assert len(pairs) >= 3 and any("household" in " ".join(p) for p in pairs)
    phone, last6 = pairs[0][0], pairs[0][1]
    assert cli.main(["status", "--phone", phone]) == 0
    assert (tmp_path / "health_workers.csv").read_text("utf-8").count("\n") == 301
    # Same seed, same data.
    first = (tmp_path / "health_workers.csv").read_text("utf-8")
    assert cli.main(["demo-data", "--workers", "300", "--out", str(tmp_path), "--no-load"]) == 0
    assert (tmp_path / "health_workers.csv").read_text("utf-8") == first
    assert last6.isdigit() and len(last6) == 6


def test_status_finds_a_nik_typed_with_dashes_or_spaces_as_the_import_takes_it(
    env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facilities = tmp_path / "f.csv"
    facilities.write_text(FAC_HEADER + "\n".join(STANDARD_FACILITIES) + "\n", "utf-8")
    workers = tmp_path / "w.csv"
    workers.write_text(WORKER_HEADER + f"{nik(8)},Pekerja 8,081200000008,Bidan,PKM-01\n")
    assert cli.main(["import", "facilities", str(facilities)]) == 0
    assert cli.main(["import", "health-workers", str(workers)]) == 0
    capsys.readouterr()
    n = nik(8)
    for typed in (n, f"{n[:4]}-{n[4:8]}-{n[8:12]}-{n[12:]}", f" {n[:6]} {n[6:12]} {n[12:]} "):
        assert cli.main(["status", "--nik", typed]) == 0, typed
        assert "Pekerja 8" in capsys.readouterr().out
    assert cli.main(["status", "--nik", "3273-0101"]) == 2
    assert "nik: NIK must be 16 digits" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--phone", "--nik", "--code"])
def test_status_with_an_empty_value_says_so_and_exits_2(
    env: None, option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`status --phone ""` fell through to the NIK branch and crashed in validate_nik(None)."""
    assert cli.main(["status", option, ""]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"{option}: the value is empty"


@pytest.mark.parametrize("how", ["directory", "env-directory", "not-utf8"])
def test_an_unreadable_config_is_a_config_error_for_every_command(how: str, tmp_path: Path) -> None:
    """A directory or a non-UTF-8 file as the config traced back from every command."""
    environ = {k: v for k, v in os.environ.items() if k != "USSD_CONFIG"}
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'[service]\nname = "\xff\xfe"\n')
    args = {"directory": ["--config", str(tmp_path)], "not-utf8": ["--config", str(bad)]}
    if how == "env-directory":
        environ["USSD_CONFIG"] = str(tmp_path)
    for command in (["status", "--code", "X"], ["serve"]):
        done = subprocess.run(
            [sys.executable, "-m", "ussd_server", *args.get(how, []), *command],
            capture_output=True,
            text=True,
            env=environ,
            cwd=Path(__file__).resolve().parent.parent,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith("config error: "), done.stderr
        assert ("UTF-8" if how == "not-utf8" else "directory") in done.stderr
