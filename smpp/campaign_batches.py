"""One sender's hot path on one campaign: batches under leases, outcomes, the heartbeat.

Several processes send one campaign together. Each takes a batch of recipients
under a lease (Redis time, renewed while it sends); a lease that runs out (the
process died or stalled) lets any other sender put that batch's in-flight
recipients back at the front of the queue, and from then on the outcome scripts
ignore what the old holder reports for them. Everything goes over the lean
pipelined client, one round trip per batch taken and one per flush of answers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.redis_lean import Call, FastRedis
from smpp import campaign_lua as lua
from smpp.keys import SmsKeys
from smpp.settings import MAX_RETRY_DELAY, RETRY_DELAY

SCRIPTS = (lua.TAKE, lua.COMMIT, lua.RETRY, lua.FINISH, lua.UNSEND, lua.RENEW, lua.RELEASE)
SCRIPTS += (lua.RECLAIM, lua.ADD, lua.RECEIPT)

# Outcomes grouped per batch: {batch id: [nik, value, nik, value, ...]}.
Groups = dict[str, list[str]]


def flat_groups(groups: Groups) -> list[str]:
    """ARGV for the outcome scripts: batch, count, nik, value, ..., per batch."""
    out: list[str] = []
    for batch, pairs in groups.items():
        out += (batch, str(len(pairs) // 2), *pairs)
    return out


@dataclass
class Leases:
    """The batches this sender holds, and until when it may still send from them."""

    seconds: float
    remaining: dict[str, int] = field(default_factory=dict)  # batch -> recipients unrecorded
    valid_until: float = 0.0  # monotonic: the last confirmed lease expiry, minus a margin

    def opened(self, batch: str, count: int, asked_at: float) -> None:
        self.remaining[batch] = count
        self.confirm(asked_at)

    def confirm(self, asked_at: float) -> None:
        """A renewal (or take) sent at `asked_at` succeeded: leases last `seconds` from it."""
        self.valid_until = max(self.valid_until, asked_at + self.seconds * 0.8)

    def holds(self, batch: str) -> bool:
        return batch in self.remaining and time.monotonic() < self.valid_until

    def lost(self, asked: Sequence[str], still_held: Sequence[str]) -> None:
        """Forget the batches a renewal asked about and did not confirm."""
        for batch in set(asked).difference(still_held):
            self.remaining.pop(batch, None)

    def completed_by(self, counts: dict[str, int]) -> list[str]:
        """The batches that recording these counts (recipients per batch) completes."""
        left = self.remaining
        return [b for b, n in counts.items() if b in left and left[b] <= n]

    def recorded(self, counts: dict[str, int]) -> None:
        """Recipients recorded in Redis: complete batches leave (their lease is released)."""
        for batch, n in counts.items():
            left = self.remaining.get(batch)
            if left is not None and left <= n:
                del self.remaining[batch]
            elif left is not None:
                self.remaining[batch] = left - n


class CampaignBatches:
    """The Redis side of sending campaign `name` as `owner` (lean client, hash-tagged keys)."""

    def __init__(self, lean: FastRedis, keys: SmsKeys, name: str, owner: str, lease: float):
        self.lean, self.keys, self.name, self.owner = lean, keys, name, owner
        self.lease_ms = int(lease * 1000)
        self.leases = Leases(lease)
        lean.register(*SCRIPTS)
        k = keys
        self.queue, self.inflight = k.campaign_queue(name), k.campaign_inflight(name)
        self.state, self.meta = k.campaign_state(name), k.campaign_meta(name)
        self.attempts, self.latency = k.campaign_attempts(name), k.campaign_latency(name)
        self.later = k.campaign_later(name)
        self.lease_keys = [k.campaign_leases(name), k.campaign_batch_owners(name)]
        self.senders = k.campaign_senders(name)

    async def add(self, entries: list[str]) -> int:
        if not entries:
            return 0
        return int(await self.lean.evalsha(lua.ADD, [self.queue, self.state, self.meta], entries))

    async def take(self, n: int) -> tuple[str, list[str]]:
        """A batch under a new lease: (batch id, queue entries); ("", []) when none queued."""
        asked = time.monotonic()
        keys = [self.queue, self.inflight, self.state, self.meta, *self.lease_keys, self.later]
        got = await self.lean.evalsha(lua.TAKE, keys, [n, self.owner, self.lease_ms])
        if not got:
            return "", []
        self.leases.opened(got[0], len(got) - 1, asked)
        return got[0], got[1:]

    async def opted_out(self, phones: list[str]) -> list[bool]:
        flags = await self.lean.execute("SMISMEMBER", self.keys.sms_optouts(), *phones)
        return [bool(f) for f in flags]

    def outcome_calls(self, ok: Groups, retry: Groups, failed: Groups, opted: Groups,
                      max_attempts: int) -> list[Call]:  # fmt: skip
        """The script calls recording answers (ok values are message ids)."""
        calls = []
        short = [self.inflight, self.state, self.meta]
        if ok:
            calls.append(Call(lua.COMMIT, short, flat_groups(ok)))
        if retry:
            keys = [*short, self.attempts, self.later]
            delays = [int(RETRY_DELAY * 1000), int(MAX_RETRY_DELAY * 1000)]
            calls.append(Call(lua.RETRY, keys, [max_attempts, *delays, *flat_groups(retry)]))
        for counter, groups in (("failed", failed), ("opted_out", opted)):
            if groups:
                calls.append(Call(lua.FINISH, short, [counter, *flat_groups(groups)]))
        return calls

    def release_call(self, batches: list[str]) -> Call:
        return Call(lua.RELEASE, self.lease_keys, [self.owner, *batches])

    async def unsend(self, batch: str, entries: list[str]) -> None:
        """Entries taken but never submitted go back to the front of the queue."""
        if entries:
            keys = [self.inflight, self.state, self.queue]
            await self.lean.evalsha(lua.UNSEND, keys, [batch, *entries])

    async def reclaim(self, mode: str) -> int:
        """Re-queue in-flight recipients: "expired" leases, "owner" (ours), "all", "orphans"."""
        keys = [*self.lease_keys, self.inflight, self.state, self.queue]
        return int(await self.lean.evalsha(lua.RECLAIM, keys, [mode, self.owner]))

    async def heartbeat(self, rate: float, sent: int) -> tuple[str, int]:
        """Every half second: renew our leases, reclaim expired ones, publish our rate.

        Returns (campaign state, recipients re-queued from expired leases)."""
        asked = time.monotonic()
        held = list(self.leases.remaining)
        reclaim_keys = [*self.lease_keys, self.inflight, self.state, self.queue]
        items: list[Any] = [
            ("HGET", self.meta, "state"),
            Call(lua.RECLAIM, reclaim_keys, ["expired", self.owner]),
            ("HSET", self.senders, self.owner, f"{rate:.1f}\t{sent}\t{time.time():.0f}"),
        ]
        if held:
            items.append(Call(lua.RENEW, self.lease_keys, [self.owner, self.lease_ms, *held]))
        replies = await self.lean.batch(items)
        if held:
            self.leases.confirm(asked)
            self.leases.lost(held, replies[3])
        return replies[0] or "cancelled", int(replies[1])

    async def leave(self) -> None:
        """A clean stop: our unanswered in-flight recipients back to the queue, leases gone."""
        await self.reclaim("owner")
        await self.lean.execute("HDEL", self.senders, self.owner)
        self.leases.remaining.clear()


def receipt_call(keys: SmsKeys, name: str, nik: str, state: str, counter: str, bucket: str) -> Call:
    """Record one final receipt for a campaign recipient (see lua.RECEIPT's answers)."""
    target = [keys.campaign_state(name), keys.campaign_meta(name), keys.campaign_latency(name)]
    return Call(lua.RECEIPT, target, [nik, state, counter, bucket])
