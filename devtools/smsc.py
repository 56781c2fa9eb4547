"""A development SMSC: real SMPP 3.4 over TCP, with switches for what real SMSCs do.

Lean on purpose (an asyncio.Protocol, one write per read, submits answered after
reading only the destination) so that it is not what limits a benchmark. Switches:
throttle every Nth submit, a maximum rate above which it answers RTHROTTLED, refuse
part N of a long message once per number (RTHROTTLED), drop the connection after N
submits, added latency, SMS submits stalled or throttled while USSD screens are
answered (or the next N screens refused), delivery receipts (TLVs + text), garbage
injection, MO injection and USSD handsets (:mod:`devtools.smsc_deliver`,
:mod:`devtools.smsc_ussd`). :mod:`devtools.smsc_control` serves them over HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from devtools.smsc_deliver import send_receipt
from devtools.smsc_state import SimState
from smpp import codec, concat, encoding

log = logging.getLogger(__name__)


def early_pdus() -> list[bytes]:
    """What an eager SMSC sends before its bind_resp: a keep-alive and an MO it held."""
    held = codec.build_submit_sm(
        0x7FFFFFF1, source="6281299999999", source_ton=1, source_npi=1, destination="1199",
        short_message=b"EARLY", command_id=codec.DELIVER_SM,
    )  # fmt: skip
    return [codec.header_only(codec.ENQUIRE_LINK, 0x7FFFFFF0), held]


class SmscConnection(asyncio.Protocol):
    def __init__(self, state: SimState) -> None:
        self.state = state
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.bound: int = 0  # the bind command id once bound
        self.submits = 0
        self.seq = 0
        self.dead = False
        self.sent_at: dict[int, float] = {}  # deliver_sm sequence -> when it was sent

    # --- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.state.connections.append(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.dead = True
        if self in self.state.connections:
            self.state.connections.remove(self)
            if self.bound:
                self.state.closed_submits.append(self.submits)

    def data_received(self, data: bytes) -> None:
        if self.dead:
            return
        self.buffer += data
        try:
            frames = codec.split_frames(self.buffer)
        except codec.FramingError:
            self.close()
            return
        out: list[bytes] = []
        for frame in frames:
            if self.dead:
                return
            self.handle(frame, out)
            if self.dead:  # dropped: everything after the drop point is lost, as on a cut line
                break
        if out and self.transport is not None:
            delay = self.state.settings.latency
            payload = b"".join(out)
            if delay > 0:
                asyncio.get_running_loop().call_later(delay, self._write_late, payload)
            else:
                self.transport.write(payload)
        if self.dead and self.transport is not None:
            # Half-close: the answers already written still reach the ESME (a full close
            # while it is sending would make the kernel reset the line and discard them);
            # whatever it sends after this point is read and thrown away, as if lost.
            if self.transport.can_write_eof():
                self.transport.write_eof()
            asyncio.get_running_loop().call_later(1.0, self.transport.close)

    def _write_late(self, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(payload)

    def close(self) -> None:
        self.dead = True
        if self.transport is not None:
            self.transport.close()

    # --- PDUs -------------------------------------------------------------------------

    def handle(self, frame: codec.Frame, out: list[bytes]) -> None:
        cid = frame.command_id
        if cid == codec.SUBMIT_SM:
            if not self.bound or self.bound == codec.BIND_RECEIVER:
                out.append(codec.build_submit_sm_resp(frame.sequence, codec.ESME_RINVBNDSTS, ""))
                return
            answer = self.submit(frame)
            if answer is not None:  # None: a stalled submit, never answered
                out.append(answer)
        elif cid in codec.BIND_NAMES:
            if self.state.settings.early_pdus and not self.bound:
                out.extend(early_pdus())
            out.append(self.bind(frame))
        elif cid == codec.ENQUIRE_LINK:
            out.append(codec.header_only(codec.ENQUIRE_LINK_RESP, frame.sequence))
        elif cid == codec.UNBIND:
            out.append(codec.header_only(codec.UNBIND_RESP, frame.sequence))
            self.dead = True
        elif cid in (codec.DELIVER_SM_RESP, codec.DATA_SM_RESP):
            self.state.deliver_resp[frame.status] += 1
            sent = self.sent_at.pop(frame.sequence, None)
            if sent is not None:
                self.state.deliver_resp_seconds.append(round(time.monotonic() - sent, 4))
        elif cid & codec.RESP_BIT:  # what the ESME answered to our enquire_link, unbind...
            self.state.responses[f"0x{cid:08x}"] += 1
        else:
            out.append(codec.header_only(codec.GENERIC_NACK, frame.sequence, codec.ESME_RINVCMDID))

    def bind(self, frame: codec.Frame) -> bytes:
        s = self.state.settings
        try:
            req = codec.parse_bind(frame.command_id, frame.status, frame.sequence, frame.body)
        except codec.PduError:
            status = codec.ESME_RBINDFAIL
        else:
            if self.bound:
                status = codec.ESME_RALYBND
            elif req.system_id != s.system_id:
                status = codec.ESME_RBINDFAIL
            elif req.password != s.password:
                status = codec.ESME_RINVPASWD
            else:
                status = codec.ESME_ROK
        if status == codec.ESME_ROK:
            self.bound = frame.command_id
            self.state.events.append((time.monotonic(), "bind"))
        else:
            self.state.binds_rejected += 1
        return codec.build_bind_resp(frame.command_id, frame.sequence, status, "SIMSC")

    def _over_rate(self, limit: float) -> bool:
        # Sliding one-second window, 2 % tolerance (what operators usually allow).
        window = self.state.rate_window
        now = time.monotonic()
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= limit * 1.02 + 1:
            return True
        window.append(now)
        return False

    def _split_answer(self, sm: codec.ShortMessage | None) -> int | None:
        """The status the switches that tell SMS from USSD give this submit: -1 to leave
        it unanswered, None to carry on."""
        s = self.state.settings
        if sm is None:
            return None
        if codec.TLV_USSD_SERVICE_OP in sm.tlvs:
            if s.refuse_ussd > 0:
                s.refuse_ussd -= 1
                return s.refuse_ussd_status
            return None
        if s.stall_sms:
            return -1
        if s.sms_error:
            return s.sms_error
        return codec.ESME_RTHROTTLED if s.throttle_sms else None

    def submit(self, frame: codec.Frame) -> bytes | None:
        st = self.state
        s = st.settings
        st.submits += 1
        if (s.throttle_every and st.submits % s.throttle_every == 0) or (
            s.max_rate and self._over_rate(s.max_rate)
        ):
            st.throttled += 1
            return codec.build_submit_sm_resp(frame.sequence, codec.ESME_RTHROTTLED, "")
        split = s.stall_sms or s.throttle_sms or s.sms_error or s.refuse_ussd > 0
        try:
            if st.record_text or s.receipts or s.refuse_part or st.handsets.dialogues or split:
                sm = codec.parse_short_message(frame.body)
                dest = sm.destination
            else:
                sm = None
                dest = codec.peek_destination(frame.body)
        except (codec.PduError, ValueError):
            return codec.build_submit_sm_resp(frame.sequence, codec.ESME_RSYSERR, "")
        if sm is not None and s.refuse_part and self._refuse_once(sm):
            st.throttled += 1
            return codec.build_submit_sm_resp(frame.sequence, codec.ESME_RTHROTTLED, "")
        status = self._split_answer(sm) if split else None
        if status is not None:
            if status == codec.ESME_RTHROTTLED:
                st.throttled += 1
            return None if status < 0 else codec.build_submit_sm_resp(frame.sequence, status, "")
        st.next_id += 1
        message_id = str(st.next_id)
        st.counts[dest] += 1
        if sm is not None and codec.TLV_USSD_SERVICE_OP in sm.tlvs:
            try:
                st.handsets.on_reply(sm)  # a USSD screen: shown on the handset, no receipt
            except codec.PduError:
                return codec.build_submit_sm_resp(frame.sequence, codec.ESME_RINVPARLEN, "")
            sm = None
        if sm is not None:
            if st.record_text:
                self._record(sm)
            if s.receipts and sm.registered_delivery & 0x03:
                asyncio.get_running_loop().call_later(
                    s.receipt_delay, send_receipt, st, sm, message_id
                )
        self.submits += 1
        if s.drop_after and self.submits >= s.drop_after:
            st.drops += 1
            st.events.append((time.monotonic(), "drop"))
            self.dead = True  # answer this one, then cut the line
        return codec.build_submit_sm_resp(frame.sequence, codec.ESME_ROK, message_id)

    def _refuse_once(self, sm: codec.ShortMessage) -> bool:
        """Part `refuse_part` of a concatenated message, the first time for its number."""
        try:
            info, _ = concat.part_info(sm)
        except codec.PduError:
            return False
        refused = self.state.refused
        if info is None or info.total < 2 or info.seq != self.state.settings.refuse_part:
            return False
        if sm.destination in refused:
            return False
        refused.add(sm.destination)
        return True

    def _record(self, sm: codec.ShortMessage) -> None:
        try:
            info, payload = concat.part_info(sm)
        except codec.PduError:
            info, payload = None, sm.short_message
        text = encoding.decode(payload, sm.data_coding)
        ref = (info.ref, info.total, info.seq) if info else None
        self.state.texts[sm.destination].append((sm.source, text, ref))

    def send_pdu(self, build: Callable[[int], bytes]) -> bytes:
        """Build a PDU with the next sequence number and send it; returns its bytes."""
        self.seq += 1
        pdu = build(self.seq)
        self.resend(pdu)
        return pdu

    def resend(self, pdu: bytes) -> None:
        """Send a PDU as it is, its sequence number included (a retransmission)."""
        if self.transport is not None and not self.dead:
            if len(self.sent_at) >= 1000:  # never answered: forget the oldest
                del self.sent_at[next(iter(self.sent_at))]
            self.sent_at[int.from_bytes(pdu[12:16], "big")] = time.monotonic()
            self.transport.write(pdu)


async def serve(state: SimState) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    s = state.settings
    return await loop.create_server(lambda: SmscConnection(state), s.host, s.port)
