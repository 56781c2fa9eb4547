"""Registry commands: import CSVs, demo data, status lookup, check-in.

python -m ussd_server import facilities FILE
python -m ussd_server import health-workers FILE [--progress]
python -m ussd_server demo-data [--workers N] [--out DIR] [--load/--no-load]
python -m ussd_server status (--phone P | --nik N | --code C)
python -m ussd_server check-in PAYLOAD_OR_CODE --facility FACILITY_ID
python -m ussd_server repair-bookings
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from redis.exceptions import RedisError

from core import aio
from core.config import Config
from core.digits import is_digits
from core.phone import normalise_phone
from core.privacy import mask_nik, redact
from core.progress import ProgressBar
from core.redis_client import connect, connect_lean
from core.settings import redis_settings
from devtools.demo import write_csvs
from registration.importer import UnreadableFile
from registration.models import ImportBusy, ImportReport, RegistrantStatus, Ticket
from registration.nik import validate_nik
from registration.service import Registry

T = TypeVar("T")
MAX_ERRORS_SHOWN = 50
EXIT_BUSY = 75  # EX_TEMPFAIL: another import is running; the same command later will do


def register(sub: Any) -> None:
    imp = sub.add_parser(
        "import", help="import facilities or health workers from CSV (UTF-8, header row)"
    )
    kinds = imp.add_subparsers(dest="kind", metavar="<kind>", required=True)
    fac = kinds.add_parser("facilities", help="facility_id,name,regency,address,daily_capacity")
    fac.add_argument("file", type=Path)
    fac.add_argument("--progress", action="store_true", help="show progress even without a TTY")
    fac.set_defaults(func=run_import, method="import_facilities")
    wk = kinds.add_parser(
        "health-workers",
        help="nik,full_name,phone,profession,facility_id (import facilities first)",
    )
    wk.add_argument("file", type=Path)
    wk.add_argument("--progress", action="store_true", help="show progress even without a TTY")
    wk.set_defaults(func=run_import, method="import_health_workers")

    demo = sub.add_parser(
        "demo-data",
        help="write (and load) a synthetic registry: 61 facilities, N health workers",
    )
    demo.add_argument(
        "--workers", type=_at_least_one, default=10_000, help="health workers (default 10000)"
    )
    demo.add_argument("--out", type=Path, default=Path("var/demo"), help="CSV directory")
    demo.add_argument("--seed", type=int, default=2021, help="random seed (same seed, same data)")
    demo.add_argument(
        "--load",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="import the CSVs into Redis (default: yes)",
    )
    demo.set_defaults(func=run_demo)

    status = sub.add_parser("status", help="registrant status by phone or NIK, or a ticket")
    which = status.add_mutually_exclusive_group(required=True)
    which.add_argument("--phone", help="phone number (any Indonesian format)")
    which.add_argument("--nik", help="full NIK")
    which.add_argument("--code", help="ticket code")
    status.set_defaults(func=run_status)

    check = sub.add_parser(
        "check-in",
        help="check a ticket in: a scanned QR payload, or a bare code (valid only if active)",
    )
    check.add_argument("payload", help="QR payload VX1.... or ticket code")
    check.add_argument(
        "--facility",
        required=True,
        help="the facility scanning (a ticket for another facility or day is refused)",
    )
    check.set_defaults(func=run_check_in)

    repair = sub.add_parser(
        "repair-bookings", help="give back seats held by interrupted bookings/cancellations"
    )
    repair.set_defaults(func=run_repair)


def _with_registry(config: Config, work: Callable[[Registry], Awaitable[T]]) -> T:
    """Run ``work`` with a Registry, closing its connections after."""

    async def run() -> T:
        settings = redis_settings(config)
        redis, lean = connect(settings), connect_lean(settings)
        try:
            return await work(Registry.from_config(config, redis, fast=lean))
        finally:
            await lean.aclose()
            await redis.aclose()

    return aio.run(run())


def print_report(label: str, report: ImportReport, out: Any = None) -> None:
    out = out or sys.stdout  # looked up per call: tests and callers redirect it
    print(f"{label}: {report.rows_ok} rows ok, {report.rows_bad} bad", file=out)
    for line, reason in report.errors[:MAX_ERRORS_SHOWN]:
        print(f"  line {line}: {reason}", file=out)
    if len(report.errors) > MAX_ERRORS_SHOWN:
        print(f"  ... and {len(report.errors) - MAX_ERRORS_SHOWN} more bad rows", file=out)


def _at_least_one(text: str) -> int:
    number = int(text) if is_digits(text) else 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number, at least 1")
    return number


def run_import(args: argparse.Namespace, config: Config) -> int:
    if not args.file.is_file():
        what = "not a regular file" if args.file.exists() else "no such file"
        print(f"{what}: {args.file}", file=sys.stderr)
        return 2
    progress = ProgressBar.auto(f"importing {args.file.name}", force=args.progress)
    try:
        report = _with_registry(config, lambda r: getattr(r, args.method)(args.file, progress))
    except UnreadableFile as exc:
        print(f"{args.kind}: {exc}", file=sys.stderr)
        return 1
    except ImportBusy as exc:  # nothing of this file written (health workers): try later
        print(f"{args.kind}: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except RedisError as exc:  # part of the file may be written: say so, and how to go on
        print(f"{args.kind}: error: {redact(str(exc))}", file=sys.stderr)
        print("the import stopped part way; importing the file again is safe", file=sys.stderr)
        return 1
    print_report(args.kind, report)
    return 0 if report.rows_ok or not report.rows_bad else 1


def run_demo(args: argparse.Namespace, config: Config) -> int:
    out = config.resolve_path(str(args.out))  # relative to the project, like var/redis
    fac_path, wk_path, logins = write_csvs(out, args.workers, args.seed)
    print(f"wrote {fac_path} and {wk_path} ({args.workers} health workers)")
    if args.load:

        async def load(registry: Registry) -> tuple[ImportReport, ImportReport]:
            facilities = await registry.import_facilities(fac_path)
            progress = ProgressBar.auto("importing health workers")
            workers = await registry.import_health_workers(wk_path, progress)
            return facilities, workers

        try:
            facilities, workers = _with_registry(config, load)
        except ImportBusy as exc:
            print(f"demo-data: {exc}", file=sys.stderr)
            return EXIT_BUSY
        print_report("facilities", facilities)
        print_report("health workers", workers)
    print("try a journey with one of these (phone, last 6 digits of the NIK):")
    for login in logins:
        note = "  (household: shares the phone)" if login.household else ""
        print(f"  {login.phone}  {login.last6}  {login.name}{note}")
    return 0


def _describe_ticket(ticket: Ticket | None) -> str:
    if ticket is None:
        return "no ticket"
    return (
        f"ticket {ticket.code} ({ticket.state}) dose {ticket.dose} at {ticket.facility_id} "
        f"on {ticket.day.isoformat()} {ticket.session_id}"
    )


def _describe(status: RegistrantStatus) -> str:
    lines = [
        f"{mask_nik(status.worker.nik)} {status.worker.full_name} ({status.worker.profession})",
        f"  facility: {status.facility.name if status.facility else status.worker.facility_id}",
        f"  screening: {status.screening.outcome if status.screening else 'not yet'}"
        + (
            f", retry on {status.screening.retry_on}"
            if status.screening and status.screening.retry_on
            else ""
        ),
        f"  {_describe_ticket(status.ticket)}",
    ]
    if status.dose2_due:
        lines.append(f"  dose 2 due: {status.dose2_due.isoformat()}")
    lines += [f"  | {event}" for event in status.history[-5:]]
    return "\n".join(lines)


def _blank_status_option(args: argparse.Namespace) -> str | None:
    """The option given with an empty value (``--phone ""``), if any: argparse accepts it,
    and the lookup below must not take it for "not given" and fall through to the NIK."""
    for name in ("phone", "nik", "code"):
        value = getattr(args, name)
        if value is not None and not value.strip():
            return name
    return None


def run_status(args: argparse.Namespace, config: Config) -> int:
    blank = _blank_status_option(args)
    if blank:
        print(f"--{blank}: the value is empty", file=sys.stderr)
        return 2

    async def look(registry: Registry) -> int:
        if args.code is not None:
            ticket = await registry.ticket(args.code)
            print(_describe_ticket(ticket))
            return 0 if ticket else 1
        if args.phone is not None:
            phone = normalise_phone(args.phone)
            if not phone.ok:
                print(f"phone: {phone.reason}", file=sys.stderr)
                return 2
            statuses = await registry.status_by_phone(phone.value)
        else:
            nik = validate_nik(args.nik)  # the import's forms: spaces, dots, dashes
            if not nik.ok:
                print(f"nik: {nik.reason}", file=sys.stderr)
                return 2
            found = await registry.status_by_nik(nik.value)
            statuses = [found] if found else []
        if not statuses:
            print("not on the list")
            return 1
        print("\n".join(_describe(s) for s in statuses))
        return 0

    return _with_registry(config, look)


def run_check_in(args: argparse.Namespace, config: Config) -> int:
    async def check(registry: Registry) -> int:
        result = await registry.check_in(args.payload, facility_id=args.facility)
        print(f"{result.outcome.value.upper()}: {_describe_ticket(result.ticket)}")
        if result.dose2_due:
            print(f"dose 2 due on {result.dose2_due.isoformat()}")
        return 0 if result.outcome == "valid" else 1

    return _with_registry(config, check)


def run_repair(args: argparse.Namespace, config: Config) -> int:
    async def repair(registry: Registry) -> int:
        freed = await registry.repair()
        print(f"gave back {freed} seat(s)")
        return 0

    return _with_registry(config, repair)
