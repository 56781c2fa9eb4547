"""Key naming shared by every layer: a prefix, hash tags, and the outbox stream.

Layout: ``<prefix>:<area>:{<hash tag>}:<what>``. The part in braces is a Redis
Cluster hash tag: keys a script touches together carry the same tag, so the
script stays in one slot. Each layer names its own keys in its own ``keys``
module (registration, dialogue, gateways, smpp) on top of :class:`KeySpace`;
never write a key name as a string literal elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeySpace:
    """Every key this service writes starts with ``prefix`` (``[redis] key_prefix``)."""

    prefix: str = "vx"


@dataclass(frozen=True)
class OutboxKeys(KeySpace):
    """The SMS outbox: written by the domain and the dialogue, read by the SMS channel."""

    def sms_outbox(self) -> str:
        """Stream of SMS waiting for the SMS channel (ticket SMS and the like)."""
        return f"{self.prefix}:sms:outbox"

    def sms_outbox_marker(self, dedupe_key: str) -> str:
        """Marker: this outbox message was queued already (used by core.outbox).

        Its hash tag is the stream's own key name, so it hashes to the slot of
        ``sms_outbox()`` and one script can set it and add to the stream.
        """
        return f"{self.prefix}:sms:outbox:dedupe:{{{self.sms_outbox()}}}:{dedupe_key}"
