"""Redis key names of the SMS channel: campaigns, message ids, opt-outs, outbox bookkeeping.

A campaign's keys share the hash tag ``{c:<name>}`` so every campaign script
touches one slot; per-subscriber keys share ``{s:<msisdn>}``.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.keys import OutboxKeys


@dataclass(frozen=True)
class SmsKeys(OutboxKeys):
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

    def campaign_later(self, name: str) -> str:
        """Sorted set of queue entries to send again after a temporary error, score = when
        (Redis's clock, ms); a batch taken first moves the due ones to the queue."""
        return f"{self.prefix}:c:{{c:{name}}}:later"

    def campaign_attempts(self, name: str) -> str:
        """Hash nik -> temporary failures so far."""
        return f"{self.prefix}:c:{{c:{name}}}:attempts"

    def campaign_materializer(self, name: str) -> str:
        """The sender choosing the recipients of this campaign now (SET NX with a TTL)."""
        return f"{self.prefix}:c:{{c:{name}}}:materializer"

    def campaign_leases(self, name: str) -> str:
        """Sorted set batch id -> lease expiry (Redis time, ms): the batches being sent."""
        return f"{self.prefix}:c:{{c:{name}}}:leases"

    def campaign_batch_owners(self, name: str) -> str:
        """Hash batch id -> the sender holding its lease."""
        return f"{self.prefix}:c:{{c:{name}}}:batch-owners"

    def campaign_senders(self, name: str) -> str:
        """Hash sender -> "rate<TAB>sent<TAB>unix time": the processes sending the campaign."""
        return f"{self.prefix}:c:{{c:{name}}}:senders"

    def campaign_latency(self, name: str) -> str:
        """Hash latency bucket -> final receipts (submit to receipt; smpp.receipt_latency)."""
        return f"{self.prefix}:c:{{c:{name}}}:latency"

    def sms_message_id(self, message_id: str) -> str:
        """String "c\\t<campaign>\\t<nik>\\t<submit unix time>" or "o\\t<dedupe_key>":
        receipts find their message (and the submit time, for the receipt latency)."""
        return f"{self.prefix}:sms:{{m:{message_id}}}:mid"

    def sms_optouts(self) -> str:
        """Set of msisdns that sent BERHENTI/STOP: no more blasts to them."""
        return f"{self.prefix}:sms:optouts"

    def sms_help_guard(self, msisdn: str) -> str:
        """Present while a help reply to this sender is rate-limited (anti-loop)."""
        return f"{self.prefix}:s:{{s:{msisdn}}}:sms-help"

    def sms_outbox_attempts(self) -> str:
        """Hash stream-entry id -> temporary failures of that outbox SMS.

        Tagged with the stream's own name (its slot): one transaction records a failure
        in it, in the failed stream and in the outbox stream.
        """
        return f"{self.prefix}:sms:outbox:attempts:{{{self.sms_outbox()}}}"

    def sms_outbox_failed(self) -> str:
        """Stream of outbox SMS that failed permanently (with the reason); the outbox's slot."""
        return f"{self.prefix}:sms:outbox:failed:{{{self.sms_outbox()}}}"

    def smsc_budget(self, account: str) -> str:
        """Hash tokens/stamp: the messages-per-second budget of one SMSC account, shared
        by every bind and process sending to it (smpp.budget)."""
        return f"{self.prefix}:smsc:{{r:{account}}}:budget"

    def sms_stats(self) -> str:
        """Hash of SMS channel counters (MO received, receipts, replies...)."""
        return f"{self.prefix}:sms:stats"
