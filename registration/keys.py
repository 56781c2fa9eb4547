"""Every Redis key name this service uses, built in one place.

Layout: ``<prefix>:<area>:{<hash tag>}:<what>``. The part in braces is a Redis
Cluster hash tag: all keys of one registrant share ``{w:<nik>}`` so a Lua script
or MULTI touching one registrant stays in one slot; a facility's slot counters
share ``{f:<facility_id>}``; a USSD/SMS session shares ``{s:<msisdn>}``; a
campaign shares ``{c:<name>}``. Keys that must be read together in one script
therefore always carry the same tag.

Add new keys here, next to their siblings, never as string literals elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    prefix: str = "vx"

    # --- registry (health workers, facilities) -------------------------------
    def worker(self, nik: str) -> str:
        """Hash: the health worker record (nik, full_name, phone, profession, facility_id)."""
        return f"{self.prefix}:w:{{w:{nik}}}:rec"

    def phone_index(self, phone: str) -> str:
        """Set of NIKs listed with this phone (a household may share one phone)."""
        return f"{self.prefix}:p:{{p:{phone}}}:niks"

    def nik_attempts(self, phone: str) -> str:
        """Counter of wrong last-6 attempts for a phone (expires with the lockout window)."""
        return f"{self.prefix}:p:{{p:{phone}}}:attempts"

    def nik_lock(self, phone: str) -> str:
        """Present while the phone is locked; TTL = remaining lock time."""
        return f"{self.prefix}:p:{{p:{phone}}}:lock"

    def facility(self, facility_id: str) -> str:
        """Hash: facility record."""
        return f"{self.prefix}:f:{{f:{facility_id}}}:rec"

    def facilities(self) -> str:
        """Set of all facility ids."""
        return f"{self.prefix}:facilities"

    def regency_facilities(self, regency: str) -> str:
        """Sorted set of facility ids in a regency (score 0, ordered by id)."""
        return f"{self.prefix}:regency:{regency.lower()}:facilities"

    def workers_by_facility(self, facility_id: str) -> str:
        """Set of NIKs assigned to a facility (for blasts filtered by facility/regency)."""
        return f"{self.prefix}:f:{{f:{facility_id}}}:workers"

    def all_workers(self) -> str:
        """Set of all listed NIKs."""
        return f"{self.prefix}:workers"

    def registry_meta(self) -> str:
        """Hash: counters and import timestamps."""
        return f"{self.prefix}:registry:meta"

    # --- slots, bookings, tickets --------------------------------------------
    def slot_booked(self, facility_id: str, day: str) -> str:
        """Hash session_id -> seats booked for one facility and day."""
        return f"{self.prefix}:f:{{f:{facility_id}}}:booked:{day}"

    def booking(self, nik: str) -> str:
        """Hash: the registrant's active booking (one per registrant)."""
        return f"{self.prefix}:w:{{w:{nik}}}:booking"

    def screening(self, nik: str) -> str:
        """Hash: the latest screening outcome and answers."""
        return f"{self.prefix}:w:{{w:{nik}}}:screening"

    def registrant_status(self, nik: str) -> str:
        """Hash: registration status, dose-2 due date, history."""
        return f"{self.prefix}:w:{{w:{nik}}}:status"

    def ticket(self, code: str) -> str:
        """Hash: ticket by its short code."""
        return f"{self.prefix}:t:{{t:{code}}}:rec"

    def stats(self) -> str:
        """Hash of counters by status and by regency."""
        return f"{self.prefix}:stats"

    # --- USSD / SMS dialogue sessions (dialogue engine) -----------------------
    # Everything about one subscriber's dialogue shares the hash tag {s:<msisdn>},
    # so one MGET reads session, resume state and language in one slot.
    def dialogue_session(self, dialect: str, session_id: str, msisdn: str) -> str:
        """JSON blob: one gateway session (screen, back stack, vars, last reply)."""
        return f"{self.prefix}:s:{{s:{msisdn}}}:sess:{dialect}:{session_id}"

    def dialogue_resume(self, msisdn: str) -> str:
        """JSON blob: where an unfinished registration stopped (TTL = resume window)."""
        return f"{self.prefix}:s:{{s:{msisdn}}}:resume"

    def dialogue_language(self, msisdn: str) -> str:
        """The subscriber's chosen language ("id" or "en")."""
        return f"{self.prefix}:s:{{s:{msisdn}}}:lang"

    def ticket_resend_guard(self, msisdn: str) -> str:
        """Present while a ticket re-send is rate-limited for this phone."""
        return f"{self.prefix}:s:{{s:{msisdn}}}:resend"

    def ussd_outcomes(self) -> str:
        """Hash: end-of-session notifications counted by dialect and status."""
        return f"{self.prefix}:ussd:outcomes"

    # --- registration domain internals (registration/ owner) ------------------
    def slot_holders(self, facility_id: str, day: str) -> str:
        """Hash "<nik>|<claim_id>" -> session_id: who holds each seat (facility slot)."""
        return f"{self.prefix}:f:{{f:{facility_id}}}:holders:{day}"

    def pending_releases(self) -> str:
        """Sorted set of seats that may need giving back (claim in flight, cancel in flight).

        Member "<facility_id>|<day>|<nik>|<claim_id>", score = when a sweeper may act.
        """
        return f"{self.prefix}:registry:pending-releases"

    # --- outbound SMS queue (USSD confirmations handed to the SMS channel) ----
    def sms_outbox(self) -> str:
        """Stream of SMS waiting for the SMS channel (ticket SMS and the like)."""
        return f"{self.prefix}:sms:outbox"

    def sms_outbox_marker(self, dedupe_key: str) -> str:
        """Marker: this outbox message was queued already (used by registration.outbox).

        Its hash tag is the stream's own key name, so it hashes to the slot of
        ``sms_outbox()`` and one script can set it and add to the stream.
        """
        return f"{self.prefix}:sms:outbox:dedupe:{{{self.sms_outbox()}}}:{dedupe_key}"

    # --- SMS channel (smpp/ owner) ---------------------------------------------
    def campaigns(self) -> str:
        """Sorted set of campaign names, score = creation time."""
        return f"{self.prefix}:campaigns"

    def campaign_meta(self, name: str) -> str:
        """Hash: template, filters, state, counters (queued/submitted/delivered/failed...)."""
        return f"{self.prefix}:c:{{c:{name}}}:meta"

    def campaign_queue(self, name: str) -> str:
        """List of recipients still to send, entries "nik\\tphone\\tfirst_name"."""
        return f"{self.prefix}:c:{{c:{name}}}:queue"

    def campaign_inflight(self, name: str) -> str:
        """Hash nik -> queue entry: taken for submitting, no submit_sm_resp recorded yet."""
        return f"{self.prefix}:c:{{c:{name}}}:inflight"

    def campaign_state(self, name: str) -> str:
        """Hash nik -> recipient state.

        q queued, i in flight, s:<msgid> submitted, d delivered, f:<reason> failed,
        x expired, o opted out.
        """
        return f"{self.prefix}:c:{{c:{name}}}:state"

    def campaign_attempts(self, name: str) -> str:
        """Hash nik -> temporary failures so far."""
        return f"{self.prefix}:c:{{c:{name}}}:attempts"

    def campaign_lease(self, name: str) -> str:
        """Who is sending this campaign now (SET NX with a TTL renewed while sending)."""
        return f"{self.prefix}:c:{{c:{name}}}:lease"

    def sms_message_id(self, message_id: str) -> str:
        """String "campaign\\tnik" or "outbox\\t<dedupe_key>": receipts find their message."""
        return f"{self.prefix}:sms:{{m:{message_id}}}:mid"

    def sms_optouts(self) -> str:
        """Set of msisdns that sent BERHENTI/STOP: no more blasts to them."""
        return f"{self.prefix}:sms:optouts"

    def sms_concat_ref(self, msisdn: str) -> str:
        """Counter: the next concatenation reference for long SMS to this number."""
        return f"{self.prefix}:s:{{s:{msisdn}}}:concat-ref"

    def sms_help_guard(self, msisdn: str) -> str:
        """Present while a help reply to this sender is rate-limited (anti-loop)."""
        return f"{self.prefix}:s:{{s:{msisdn}}}:sms-help"

    def sms_outbox_attempts(self) -> str:
        """Hash stream-entry id -> temporary failures of that outbox SMS."""
        return f"{self.prefix}:sms:outbox:attempts"

    def sms_outbox_failed(self) -> str:
        """Stream of outbox SMS that failed permanently (with the reason)."""
        return f"{self.prefix}:sms:outbox:failed"

    def sms_stats(self) -> str:
        """Hash of SMS channel counters (MO received, receipts, replies...)."""
        return f"{self.prefix}:sms:stats"
