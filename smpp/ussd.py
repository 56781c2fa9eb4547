"""USSD over SMPP: one more edge adapter onto the dialogue's message model.

Each hop is a deliver_sm carrying ``ussd_service_op``; the bind's variant
(:mod:`smpp.ussd_variants`) says what the op and the session reference mean. The
hop becomes an :class:`Inbound`, the dialogue answers with an :class:`Outbound`,
and the screen goes back as a submit_sm on the same bind, to the same subscriber,
with the same session TLVs (the end bit set on the last screen). A close sends
nothing back. A PDU we cannot use is refused with a status that names the fault;
the connection carries on. Hops of one subscriber are handled one at a time, so a
retransmitted hop meets the session its original left behind.

A screen is interactive traffic on its bind (no throttle pause, the window's USSD
reserve, served before SMS). A screen the SMSC answers RTHROTTLED or RMSGQFUL is sent
again after RESUBMIT_PAUSE, at most RESUBMITS times and only within SCREEN_DEADLINE
of its first submit (the network gives up on a silent dialogue after some tens of
seconds); then it is dropped with a warning.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core import metrics
from core.aio import cancel_until_done, run_held
from core.phone import normalise_phone
from core.privacy import mask_phone
from dialogue.model import Channel, Dialogue, Inbound, Outbound, SessionEvent
from smpp import codec, encoding
from smpp.locks import KeyedLocks
from smpp.pool import SmppPool
from smpp.settings import BindSettings
from smpp.ussd_variants import VARIANTS, Variant

log = logging.getLogger(__name__)

DIALECT = "smpp"
# A screen refused for now (RTHROTTLED, RMSGQFUL) is submitted again after this pause,
# at most this many more times, and never after this many seconds from its first submit.
RESUBMIT_PAUSE = 0.5
RESUBMITS = 2
SCREEN_DEADLINE = 4.0
_FOR_NOW = frozenset({codec.ESME_RTHROTTLED, codec.ESME_RMSGQFUL})


class Refused(Exception):
    """The PDU cannot be a hop; ``status`` goes back in deliver_sm_resp."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(slots=True)
class Screen:
    """One screen on its way: what resubmitting it needs."""

    msisdn: str
    bind: BindSettings
    build: Callable[[int], bytes]
    deadline: float  # monotonic: no resubmit after this
    tries: int = 1


@dataclass(frozen=True, slots=True)
class UssdHop:
    inbound: Inbound
    fields: codec.UssdFields
    sm: codec.ShortMessage  # for the reply's addresses
    reply_from: str  # the reply's source_addr
    service_type: str  # the reply's service_type


def reply_fields(sm: codec.ShortMessage, bind: BindSettings) -> tuple[str, str]:
    """(source_addr, service_type) of the reply, within submit_sm's sizes (SMPP 3.4): the
    parser takes longer ones (some networks put the whole dialled string in
    destination_addr, "*119*3273010101900001#"), the reply then comes from the bind's
    service code and carries the first 5 characters of the service_type."""
    source = sm.destination
    if not source or len(source) > codec.MAX_ADDRESS:
        source = bind.ussd_service_code
    if len(source) > codec.MAX_ADDRESS or len(sm.source) > codec.MAX_ADDRESS:
        raise Refused(codec.ESME_RX_P_APPN, "no address the reply could carry (SMPP 3.4)")
    return source, sm.service_type[: codec.MAX_SERVICE_TYPE]


def session_reference(variant: Variant, fields: codec.UssdFields) -> int:
    """The bits of the variant's session TLV that name the dialogue."""
    its = variant.session_tlv == codec.TLV_ITS_SESSION_INFO
    raw = fields.its_session_info if its else fields.user_message_reference
    if raw is None:
        name = "its_session_info" if its else "user_message_reference"
        raise Refused(codec.ESME_RMISSINGOPTPARAM, f"no {name} ({variant.name} variant)")
    return raw & variant.session_mask


def _hop_number(variant: Variant, isi: int | None, new: bool) -> int | None:
    """Bits 7..1 of octet 2 where the network numbers its hops. Never on a first hop:
    a dial that reuses an old session number must start afresh, and a repeated first
    hop is recognised by the dialogue without a number."""
    if not variant.numbered_hops or isi is None or new:
        return None
    return (isi & 0xFF) >> 1


def read_hop(sm: codec.ShortMessage, bind: BindSettings, dc_default: str) -> UssdHop | None:
    """The hop a USSD deliver_sm carries; None for an op the variant ignores."""
    variant = VARIANTS[bind.ussd_variant]
    try:
        fields = codec.ussd_fields(sm)
    except codec.MissingTlv as exc:
        raise Refused(codec.ESME_RMISSINGOPTPARAM, str(exc)) from None
    except codec.PduError as exc:
        raise Refused(codec.ESME_RINVPARLEN, str(exc)) from None
    reference = session_reference(variant, fields)
    event = variant.events.get(fields.op, variant.unknown)
    isi = fields.its_session_info
    if variant.end_bit and isi is not None and isi & 1:
        event = SessionEvent.CLOSE  # the network says the dialogue is over
    if event is None:
        return None
    phone = normalise_phone(sm.source)
    if not phone.ok:
        raise Refused(codec.ESME_RINVSRCADR, f"source_addr: {phone.reason}")
    reply_from, service_type = reply_fields(sm, bind)  # before the dialogue moves on
    # Some SMSCs carry the text in message_payload, short_message empty (always in data_sm).
    raw = sm.short_message or sm.tlvs.get(codec.TLV_MESSAGE_PAYLOAD, b"")
    text = encoding.decode(raw, sm.data_coding, dc_default).strip()
    new = event is SessionEvent.NEW
    inbound = Inbound(
        channel=Channel.USSD,
        dialect=DIALECT,
        session_id=f"{reference:04x}",
        msisdn=phone.value,
        # The first hop carries the dialled string ("*119#", "*119*1#").
        service_code=(text or bind.ussd_service_code) if new else bind.ussd_service_code,
        event=event,
        text="" if new else text,
        hop=_hop_number(variant, isi, new),
    )
    return UssdHop(inbound, fields, sm, reply_from, service_type)


def build_reply(
    hop: UssdHop, out: Outbound, bind: BindSettings, gsm_dc0: bool
) -> Callable[[int], bytes]:
    """The submit_sm carrying `out` back to the subscriber (a function of the sequence)."""
    variant, sm, fields = VARIANTS[bind.ussd_variant], hop.sm, hop.fields
    isi = fields.its_session_info
    if isi is not None and variant.end_bit:
        isi = (isi & 0xFFFE) | int(out.end)
    op = variant.reply_end if out.end else variant.reply_continue
    tlvs = codec.ussd_tlvs(op, isi, fields.user_message_reference)
    payload = encoding.encode_message(out.text, gsm_dc0=gsm_dc0, single_part=True)
    short_message = payload.parts[0]
    if len(short_message) > 254:
        tlvs += codec.tlv(codec.TLV_MESSAGE_PAYLOAD, short_message)
        short_message = b""

    def build(seq: int) -> bytes:
        return codec.build_submit_sm(
            seq,
            service_type=hop.service_type,
            source=hop.reply_from,
            source_ton=sm.dest_ton,
            source_npi=sm.dest_npi,
            destination=sm.source,
            dest_ton=sm.source_ton,
            dest_npi=sm.source_npi,
            data_coding=payload.data_coding,
            registered_delivery=0,
            short_message=short_message,
            tlvs=tlvs,
        )

    return build


class UssdEdge:
    """The deliver_sm handler for USSD hops (``SmsService`` routes them here)."""

    def __init__(self, engine: Dialogue | None, pool: SmppPool, data_coding_default: str):
        self.engine = engine
        self.pool = pool
        self.dc_default = data_coding_default
        self.gsm_dc0 = data_coding_default != encoding.LATIN1
        self._locks = KeyedLocks()
        self.stats = {
            "hops": 0, "ignored": 0, "refused": 0, "replies": 0, "reply_failed": 0, "resubmits": 0,
        }  # fmt: skip
        self._resubmits: set[asyncio.Task[Any]] = set()
        self._meter = metrics.UssdHopMeter(DIALECT)  # as the HTTP gateways, as "smpp"

    async def __call__(self, sm: codec.ShortMessage, bind: BindSettings) -> int:
        if not bind.carries_ussd:
            return self._refuse(sm, codec.ESME_RINVSERTYP, "USSD on a bind without ussd")
        try:
            hop = read_hop(sm, bind, self.dc_default)
        except Refused as exc:
            return self._refuse(sm, exc.status, str(exc), "bad_request")
        if hop is None:
            self.stats["ignored"] += 1
            return codec.ESME_ROK
        if self.engine is None:
            return self._refuse(sm, codec.ESME_RX_P_APPN, "no dialogue engine")
        self.stats["hops"] += 1
        async with self._locks.hold(hop.inbound.msisdn):
            started = time.perf_counter()
            out = await self.engine.handle(hop.inbound, max_chars=bind.ussd_max_screen_chars)
            self._meter.answered(out.outcome, out.screen, time.perf_counter() - started)
            if out.text and hop.inbound.event is not SessionEvent.CLOSE:
                build = build_reply(hop, out, bind, self.gsm_dc0)
                deadline = time.monotonic() + SCREEN_DEADLINE
                try:
                    await self._submit(Screen(hop.inbound.msisdn, bind, build, deadline))
                except codec.PduError as exc:  # retrying cannot help: refused for good
                    return self._refuse(sm, codec.ESME_RX_P_APPN, f"reply not buildable: {exc}")
        return codec.ESME_ROK

    async def _submit(self, screen: Screen) -> None:
        if not await self.pool.submit_on(screen.bind, screen.build, screen, self._sent):
            self._sent(screen, codec.LOCAL_DISCONNECTED, "")

    async def _resubmit(self, screen: Screen) -> None:
        await asyncio.sleep(RESUBMIT_PAUSE)
        screen.tries += 1
        self.stats["resubmits"] += 1
        await self._submit(screen)

    async def close(self) -> None:
        """Drop the screens waiting to be submitted again (the service stops)."""
        await cancel_until_done(*self._resubmits)

    def _refuse(
        self, sm: codec.ShortMessage, status: int, reason: str, outcome: str = "refused"
    ) -> int:
        self.stats["refused"] += 1
        self._meter.count(outcome)
        log.warning(
            "USSD deliver_sm from %s refused (%s): %s",
            mask_phone(sm.source),
            codec.status_name(status),
            reason,
        )
        return status

    def _sent(self, screen: Screen, status: int, message_id: str) -> None:
        if status == codec.ESME_ROK:
            self.stats["replies"] += 1
            return
        if (
            status in _FOR_NOW
            and screen.tries <= RESUBMITS
            and time.monotonic() + RESUBMIT_PAUSE < screen.deadline
        ):
            run_held(self._resubmits, self._resubmit(screen))
            return
        self.stats["reply_failed"] += 1
        log.warning(
            "USSD screen to %s dropped after %d submit(s): %s",
            mask_phone(screen.msisdn),
            screen.tries,
            codec.status_name(status),
        )
