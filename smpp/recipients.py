"""A campaign's queue entries: recipients chosen by the registry, minus opt-outs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from registration.recipients import Recipient
from smpp.templates import first_name


class RecipientSource(Protocol):
    """What the SMS channel needs of the registry (``registration.service.Registry``)."""

    def recipients(
        self, filters: dict[str, list[str]], only_unregistered: bool
    ) -> AsyncIterator[list[Recipient]]: ...


def entry(nik: str, phone: str, name: str) -> str:
    """A queue entry: tab-separated (no field contains a tab after this)."""
    return "\t".join((nik, phone, name.replace("\t", " ")))


def split_entry(raw: str) -> tuple[str, str, str]:
    nik, _, rest = raw.partition("\t")
    phone, _, name = rest.partition("\t")
    return nik, phone, name


async def queue_entries(
    source: RecipientSource,
    opted_out: Callable[[list[str]], Awaitable[list[bool]]],
    filters: dict[str, list[str]],
    only_unregistered: bool,
) -> AsyncIterator[tuple[list[str], int]]:
    """Yields (queue entries, opted-out count) per batch; ``opted_out(phones)`` -> flags."""
    async for batch in source.recipients(filters, only_unregistered):
        if not batch:
            continue
        flags = await opted_out([r.phone for r in batch])
        pairs = zip(batch, flags, strict=True)
        out = [entry(r.nik, r.phone, first_name(r.full_name)) for r, flag in pairs if not flag]
        yield out, len(batch) - len(out)
