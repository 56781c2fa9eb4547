"""What one two-way SMS registration costs in SMS segments, mobile-originated and -terminated.

    python -m bench sms_segments

Plays a whole registration by SMS (VAKSIN, YA, the NIK digits, the site, five
screening answers, a time, the confirmation) in process: the real engine and menus
on the memory stores, no server, no SMSC. Every reply and the ticket SMS are
counted in segments as the SMS channel would send them (smpp.encoding); the user's
messages likewise. Played twice: choosing the first time offered, and the last
(paging with 98 to the end of the window), with the longest facility name of the
demo data and a full schedule (12 open days, 2 sessions: 24 times). For comparison,
the same registration with every list in one reply, as before the SMS lists were
paged. Segments are what the operator bills: the figure to multiply by the hundreds
of thousands of health workers who register by SMS.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field

from core.config import load_config
from core.outbox import OutboundSms
from dialogue.engine import Engine
from dialogue.gsm import to_gsm
from dialogue.menus import Menus, fill
from dialogue.model import Channel, Inbound, Layout, SessionEvent, View, ViewKind
from dialogue.render import SmsLayout, render_sms
from dialogue.session_memory import MemorySessionStore
from registration.memory import memory_registry
from smpp.encoding import count_parts

START = 1610506800.0  # Wednesday 13 January 2021, 10:00 WIB: a full two-week window
PHONE = "6281200000001"
NIK = "3273010101900001"  # born 1 January 1990
FACILITY = (
    "Rumah Sakit Umum Daerah Dr. Hasan Sadikin Unit Pelayanan Vaksinasi Tenaga Kesehatan"
    " Kota Bandung Barat Daya"
)


class Clock:
    now = START

    def __call__(self) -> float:
        return self.now


@dataclass
class Outbox:
    sent: list[OutboundSms] = field(default_factory=list)

    async def enqueue(self, sms: OutboundSms) -> bool:
        self.sent.append(sms)
        return True

    async def enqueue_nowait(self, sms: OutboundSms) -> None:
        self.sent.append(sms)


@dataclass(frozen=True, slots=True)
class WholeLists:
    """The SMS layout before paging: a list is one reply, however long."""

    menus: Menus
    long_form: bool = True

    def pages(self, view: View) -> int:
        return 1

    def text(self, view: View) -> str:
        if view.kind is not ViewKind.LIST:
            return render_sms(view, self.menus)
        reply = self.menus.text("sms_option", view.lang)
        lines = [fill(reply, {"n": str(n), "label": lb}) for n, (_, lb) in enumerate(view.items, 1)]
        return to_gsm("\n".join([view.body, *lines, self.menus.text("sms_back", view.lang)]))


@dataclass
class Tally:
    mo: int = 0  # messages from the phone
    mo_segments: int = 0
    mt: int = 0  # replies
    mt_segments: int = 0
    ticket_segments: int = 0
    longest_reply: int = 0  # segments


def segments(text: str) -> int:
    return count_parts(text)[1]


async def register(layout_of: type, last_time: bool) -> Tally:
    config = load_config(environ={"USSD_TICKETS_SIGNING_KEY": "bench-signing-key"})
    clock, outbox = Clock(), Outbox()
    registry = memory_registry(config, clock=clock)
    facilities = ["facility_id,name,regency,address,daily_capacity"]
    facilities.append(f'F001,"{FACILITY}",Kota Bandung,Jl. Pasteur 38,9999')
    await registry.import_facilities(facilities)
    workers = ["nik,full_name,phone,profession,facility_id", f"{NIK},Siti,{PHONE},perawat,F001"]
    await registry.import_health_workers(workers)
    engine = Engine.from_config(
        config, registry, MemorySessionStore(clock), outbox=outbox, clock=clock
    )
    layout: Layout = layout_of(engine.menus)
    tally = Tally()

    async def send(text: str) -> str:
        inbound = Inbound(Channel.SMS, "smpp", PHONE, PHONE, "1199", SessionEvent.CONTINUE, text)
        reply = await engine.handle(inbound, layout=layout)
        tally.mo, tally.mo_segments = tally.mo + 1, tally.mo_segments + segments(text)
        tally.mt, tally.mt_segments = tally.mt + 1, tally.mt_segments + segments(reply.text)
        tally.longest_reply = max(tally.longest_reply, segments(reply.text))
        return reply.text

    for text in ("VAKSIN", "YA", NIK[-6:], "1", "TIDAK", "TIDAK", "TIDAK", "TIDAK"):
        await send(text)
    times = await send("TIDAK")
    numbers = [line.split()[1] for line in times.splitlines() if line.startswith("Balas ")]
    while last_time and "98" in numbers:
        times = await send("98")
        numbers = [line.split()[1] for line in times.splitlines() if line.startswith("Balas ")]
    choice = [n for n in numbers if n not in ("0", "98")][-1 if last_time else 0]
    await send(choice)
    done = await send("1")
    if "Kode tiket" not in done:
        raise RuntimeError(f"the registration did not end with a ticket: {done!r}")
    tally.ticket_segments = sum(segments(sms.text) for sms in outbox.sent)
    return tally


def line(label: str, tally: Tally) -> str:
    total = tally.mo_segments + tally.mt_segments + tally.ticket_segments
    return (
        f"  {label}: MO {tally.mo} messages = {tally.mo_segments} segments; "
        f"MT {tally.mt} replies = {tally.mt_segments} segments (longest {tally.longest_reply})"
        f" + ticket SMS {tally.ticket_segments}; {total} segments in all"
    )


async def run() -> int:
    started = time.perf_counter()
    print("one whole SMS registration, VAKSIN to ticket (24 times offered, longest site name):")
    paged_first = await register(SmsLayout, last_time=False)
    paged_last = await register(SmsLayout, last_time=True)
    whole_first = await register(WholeLists, last_time=False)
    print(line("lists paged, first time offered", paged_first))
    print(line("lists paged, last time offered ", paged_last))
    print(line("whole lists (before), any time  ", whole_first))
    print(
        f"  every reply within 2 segments: "
        f"{max(paged_first.longest_reply, paged_last.longest_reply) <= 2}  [target: yes]"
    )
    print(f"({time.perf_counter() - started:.2f}s)")
    return 0 if max(paged_first.longest_reply, paged_last.longest_reply) <= 2 else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench sms_segments",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.parse_args(argv)
    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
