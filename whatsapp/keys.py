"""Redis key names of the WhatsApp channel.

Everything about one phone carries the hash tag ``{wa:<phone>}``: the queue of
messages waiting to be sent to it, the webhook message ids already answered,
the buttons it was last shown, its 24-hour window and its delivery statuses.
The scripts (answer a message, take a sent message off the queue, record a
status) touch only one phone's keys, so each stays in one Redis Cluster slot.
The inbox stream, the due index and the counters are single keys of their own;
they are written by separate commands, never inside a per-phone script.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.keys import KeySpace


@dataclass(frozen=True)
class WhatsAppKeys(KeySpace):
    def wa_inbox(self) -> str:
        """Stream of webhook events (messages, statuses) accepted but not yet processed."""
        return f"{self.prefix}:wa:inbox"

    def wa_due(self) -> str:
        """Sorted set: phones with queued messages, score = when to try next (ms)."""
        return f"{self.prefix}:wa:due"

    def wa_queue(self, phone: str) -> str:
        """List of messages waiting to be sent to this phone, oldest first (JSON)."""
        return f"{self.prefix}:wa:{{wa:{phone}}}:queue"

    def wa_seen(self, phone: str, message_id: str) -> str:
        """ "pending" while a webhook message is being answered, "done" once its reply is queued."""
        return f"{self.prefix}:wa:{{wa:{phone}}}:seen:{message_id}"

    def wa_choices(self, phone: str) -> str:
        """JSON {typed title: key} of the buttons and rows this phone was shown last."""
        return f"{self.prefix}:wa:{{wa:{phone}}}:choices"

    def wa_last_inbound(self, phone: str) -> str:
        """When the phone last wrote to us (epoch seconds): opens the 24-hour window."""
        return f"{self.prefix}:wa:{{wa:{phone}}}:last-in"

    def wa_statuses(self, phone: str) -> str:
        """Hash Graph message id -> accepted, sent, delivered, read or failed:<code>."""
        return f"{self.prefix}:wa:{{wa:{phone}}}:statuses"

    def wa_help_guard(self, phone: str) -> str:
        """Present while a help reply to this phone is rate-limited (anti-loop)."""
        return f"{self.prefix}:wa:{{wa:{phone}}}:help"

    def wa_failed(self) -> str:
        """Stream of messages given up on (refused by the Graph API, window closed)."""
        return f"{self.prefix}:wa:failed"

    def wa_stats(self) -> str:
        """Hash of counters: received, duplicates, sent, retries, failed, statuses..."""
        return f"{self.prefix}:wa:stats"
