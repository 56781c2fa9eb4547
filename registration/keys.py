"""Redis key names of the registration domain (registry, seats, bookings, tickets).

Every key of one registrant shares the hash tag ``{w:<nik>}`` (one Cluster slot for
its scripts), a phone's verification keys ``{p:<phone>}``, a facility's seat
counters ``{f:<facility_id>}`` and a ticket ``{t:<code>}``. Add new keys here.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.keys import KeySpace


@dataclass(frozen=True)
class RegistryKeys(KeySpace):
    def worker(self, nik: str) -> str:
        """Hash: the health worker record (nik, full_name, phone, profession, facility_id)."""
        return f"{self.prefix}:w:{{w:{nik}}}:rec"

    def phone_index(self, phone: str) -> str:
        """Set of NIKs listed with this phone (a household may share one phone)."""
        return f"{self.prefix}:p:{{p:{phone}}}:niks"

    def nik_attempts(self, phone: str) -> str:
        """Sorted set of a phone's wrong last-6 answers, scored by time (ms), expiring with
        the lockout window (a counter left by an earlier version is converted when read)."""
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

    def facility_import_lock(self) -> str:
        """String: the token of the facility import writing a batch now (one at a time)."""
        return f"{self.prefix}:registry:facility-import-lock"

    def worker_import_lock(self) -> str:
        """String: the token of the health-worker import running now (one at a time)."""
        return f"{self.prefix}:registry:worker-import-lock"

    def registry_meta(self) -> str:
        """Hash: counters and import timestamps."""
        return f"{self.prefix}:registry:meta"

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

    def slot_holders(self, facility_id: str, day: str) -> str:
        """Hash "<nik>|<claim_id>" -> session_id: who holds each seat (facility slot)."""
        return f"{self.prefix}:f:{{f:{facility_id}}}:holders:{day}"

    def pending_releases(self) -> str:
        """Sorted set of seats that may need giving back (claim in flight, cancel in flight).

        Member "<facility_id>|<day>|<nik>|<claim_id>", score = when a sweeper may act.
        """
        return f"{self.prefix}:registry:pending-releases"
