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

    # --- outbound SMS queue (USSD confirmations handed to the SMS channel) ----
    def sms_outbox(self) -> str:
        """Stream of SMS waiting for the SMS channel (ticket SMS and the like)."""
        return f"{self.prefix}:sms:outbox"

    def sms_outbox_dedupe(self, dedupe_key: str) -> str:
        """Marker: this outbox message was queued already."""
        return f"{self.prefix}:sms:outbox:dedupe:{dedupe_key}"
