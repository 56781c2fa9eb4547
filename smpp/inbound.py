"""What comes from the SMSC: delivery receipts and incoming SMS (MO).

An MO is answered (deliver_sm_resp) only after its reply is safely queued in the
outbox stream, so a crash before that makes the SMSC deliver it again: nothing is
lost; nor is a long message's set of parts, put back when its handling fails so that
the last part, sent again, completes it again. Messages from one sender are handled
one at a time, in order. An MO from an address that is no Indonesian mobile (empty,
alphanumeric, a short code, a foreign number) is refused with ESME_RINVSRCADR, as on
the USSD binds: nobody to answer. A deliver_sm whose esm_class names another message
type than a user's or a receipt (an intermediate notification, an SME acknowledgement)
is taken (ROK) and never answered. An SMS or receipt that Redis cannot take now (down,
READONLY after a failover...) gets ESME_RX_T_APPN, so the SMSC keeps it and sends it
again, and is counted, not logged one traceback each (:mod:`core.redis_outage`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from typing import Any

import redis.asyncio as aioredis

from core import metrics
from core.outbox import OutboundSms, Outbox
from core.phone import normalise_phone
from core.privacy import mask_phone
from core.redis_lean import FastRedis
from core.redis_outage import FAILURES, OutageLog
from dialogue.flow import phone_notice
from dialogue.model import Channel, Inbound, SessionEvent
from smpp import codec, concat, encoding
from smpp.campaign_store import CampaignStore
from smpp.keys import SmsKeys
from smpp.locks import KeyedLocks
from smpp.receipt_book import ReceiptBook
from smpp.receipts import ESM_INTERMEDIATE, ESM_MESSAGE_TYPE, is_receipt, is_user_message
from smpp.settings import SmppSettings, SmsSettings

log = logging.getLogger(__name__)

OPT_OUT_WORDS = frozenset({"BERHENTI", "STOP", "UNREG"})
OPT_IN_WORDS = frozenset({"MULAI", "START"})  # undo an opt-out
_LETTERS = re.compile(r"[^A-Z]")
# A deliver_sm Redis could not take, in the log: counted per second (core.redis_outage).
OUTAGE_WORDS = {
    "mo": "SMS could not be handled",
    "receipt": "delivery receipts could not be recorded",
}
OUTAGE_OUTCOME = "answered ESME_RX_T_APPN: the SMSC sends them again"


class InboundHandler:
    def __init__(
        self,
        redis: aioredis.Redis,
        lean: FastRedis,
        keys: SmsKeys,
        smpp: SmppSettings,
        sms: SmsSettings,
        engine: Any,
        store: CampaignStore,
        outbox: Outbox,
    ) -> None:
        self.redis = redis
        self.outbox = outbox
        self.keys = keys
        self.smpp = smpp
        self.sms = sms
        self.engine = engine
        self.store = store
        self.reassembler = concat.Reassembler(
            smpp.reassembly_timeout, smpp.reassembly_max_sets, smpp.reassembly_sets_per_sender
        )
        self._locks = KeyedLocks()
        self.receipts = ReceiptBook(lean, keys, smpp.receipt_id_base)
        # Each MO holds a Redis connection through the dialogue: bound the concurrency.
        self._mo_slots = asyncio.Semaphore(16)
        self.outage = OutageLog(
            OUTAGE_WORDS, OUTAGE_OUTCOME, lambda kind: metrics.SMS_DEFERRED.labels(kind).inc()
        )

    async def __call__(self, sm: codec.ShortMessage) -> int:
        """The deliver_sm handler: returns the status for deliver_sm_resp."""
        receipt = is_receipt(sm)
        try:
            if receipt:
                await self.receipts.on_receipt(sm)
                return codec.ESME_ROK
            return await self._incoming(sm)
        except FAILURES as exc:  # Redis: not taken for now; the SMSC sends it again
            self.outage.count("receipt" if receipt else "mo", exc)
            return codec.ESME_RX_T_APPN

    async def _incoming(self, sm: codec.ShortMessage) -> int:
        if not is_user_message(sm):
            # An intermediate notification or an SME acknowledgement: taken, never answered
            # (answering one made the SMSC notify again: an SMS loop to the handset).
            intermediate = sm.esm_class & ESM_MESSAGE_TYPE == ESM_INTERMEDIATE
            kind = "intermediate" if intermediate else "sme_ack"
            metrics.SMS_NOTICES.labels(kind).inc()
            log.debug(
                "%s from %s (esm_class 0x%02X) taken, not answered",
                "intermediate notification" if intermediate else "SME acknowledgement",
                mask_phone(sm.source.strip()),
                sm.esm_class,
            )
            return codec.ESME_ROK
        phone = normalise_phone(sm.source)
        if not phone.ok:  # a short code, a name, nothing: no one the dialogue can answer
            log.warning("SMS from %s refused: %s", mask_phone(sm.source.strip()), phone.reason)
            return codec.ESME_RINVSRCADR
        try:
            info, payload = concat.part_info(sm)
        except codec.PduError as exc:
            log.warning("bad concatenation header from %s: %s", mask_phone(phone.value), exc)
            return codec.ESME_RX_P_APPN
        sender = phone.value
        done = None
        if info is not None:
            done = self.reassembler.collect(sender, sm.destination, info, sm.data_coding, payload)
            if done is None:
                return codec.ESME_ROK  # a part: kept until the set is complete
            payload, dc = done.payload, done.data_coding
        else:
            dc = sm.data_coding
        text = encoding.decode(payload, dc, self.smpp.data_coding_default)
        try:
            async with self._mo_slots, self._locks.hold(sender):
                await self.on_message(sender, sm.destination, text)
        except BaseException:
            # Not handled (Redis away...): the SMSC sends the last part again (temporary
            # error), which must find the other parts still here.
            if done is not None:
                self.reassembler.put_back(done)
            raise
        return codec.ESME_ROK

    async def on_message(self, sender: str, to: str, text: str) -> None:
        await self.redis.hincrby(self.keys.sms_stats(), "mo", 1)
        word = _LETTERS.sub("", text.upper()) if len(text) < 40 else ""
        opting = word in OPT_OUT_WORDS or word in OPT_IN_WORDS
        if opting and await self._opt(sender, word in OPT_OUT_WORDS):
            return
        if self.engine is None:
            log.warning("no dialogue engine: MO from %s not answered", mask_phone(sender))
            return
        inbound = Inbound(
            channel=Channel.SMS,
            dialect="smpp",
            session_id=sender,
            msisdn=sender,
            service_code=self.sms.service_number,
            event=SessionEvent.CONTINUE,
            text=text,
        )
        out = await self.engine.handle(inbound)
        if out.fallback:
            # Anti-loop: one help reply per sender per interval; later ones are dropped.
            guard = self.keys.sms_help_guard(sender)
            if not await self.redis.set(
                guard, "1", nx=True, ex=self.sms.help_reply_interval_seconds
            ):
                log.info("help reply to %s suppressed (rate limit)", mask_phone(sender))
                return
        if out.text:
            await self.reply(sender, out.text, "reply")

    async def _opt(self, sender: str, leaving: bool) -> bool:
        """BERHENTI/STOP opts out, MULAI/START back in; each confirmed once, when it changes
        something, in the phone's language (texts in menus/). A repeated STOP gets no
        second confirmation; MULAI from a phone not opted out is ordinary text (False)."""
        store = self.store
        changed = await (store.opt_out(sender) if leaving else store.opt_in(sender))
        if not leaving and not changed:
            return False
        log.info("%s from %s%s", "opt-out" if leaving else "opt-in", mask_phone(sender),
                 "" if changed else " (again: not confirmed)")  # fmt: skip
        if changed and self.engine is not None:
            key = "sms_opted_out" if leaving else "sms_opted_in"
            out = await phone_notice(self.engine.context, Channel.SMS, sender, key)
            await self.reply(sender, out.text, "optout" if leaving else "reply")
        return True

    async def reply(self, to: str, text: str, kind: str) -> None:
        sms = OutboundSms(to=to, text=text, kind=kind, dedupe_key=f"{kind}:{uuid.uuid4()}")
        await self.outbox.enqueue(sms)
