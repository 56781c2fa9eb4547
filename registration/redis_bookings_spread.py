"""Bookings spread over several lean connections, for ``[redis] wait_replicas``.

A booking WAITs for replicas on the connection its writes went over (a WAIT covers the
master's writes as of its connection's last command, so only there is it sure to cover
them), and Redis answers nothing else on a connection while its WAIT blocks. On one
connection the bookings of a process therefore waited one after another: with replicas a
few milliseconds away that capped a process at a few hundred bookings a second, and
while a replica was down the tenth booking in the queue waited ten ``wait_timeout_ms``
before it could fail. Here each call runs whole on one :class:`RedisBookings` of its own
connection, the one with the fewest calls in flight, so up to
``[redis] wait_connections`` bookings wait at the same time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date

from registration.models import Ticket
from registration.redis_bookings import RedisBookings
from registration.stores import BookAttempt, BookingRequest, CheckInReply, TicketIssuer


class SpreadBookings:
    """:class:`~registration.stores.BookingStore` over ``stores`` (one connection each)."""

    def __init__(self, stores: list[RedisBookings]) -> None:
        if not stores:
            raise ValueError("at least one booking store")
        self._stores = stores
        self._in_flight = [0] * len(stores)

    @contextlib.contextmanager
    def _least_busy(self) -> Iterator[RedisBookings]:
        index = min(range(len(self._stores)), key=self._in_flight.__getitem__)
        self._in_flight[index] += 1
        try:
            yield self._stores[index]
        finally:
            self._in_flight[index] -= 1

    async def book(self, request: BookingRequest, issuer: TicketIssuer) -> BookAttempt:
        with self._least_busy() as store:
            return await store.book(request, issuer)

    async def cancel(self, nik: str, code: str = "", phone: str = "") -> Ticket | None:
        with self._least_busy() as store:
            return await store.cancel(nik, code, phone)

    async def current(self, nik: str) -> Ticket | None:
        with self._least_busy() as store:
            return await store.current(nik)

    async def ticket(self, code: str) -> Ticket | None:
        with self._least_busy() as store:
            return await store.ticket(code)

    async def check_in(self, ticket: Ticket, dose2_due: date, today: date) -> CheckInReply:
        with self._least_busy() as store:
            return await store.check_in(ticket, dose2_due, today)

    async def repair(self) -> int:
        with self._least_busy() as store:
            return await store.repair()
