"""The main port holds no connection for a client that does not use it: a connection
that sends nothing, half a head or half a body, or reads none of its replies, is
ended; past ``[http] max_connections`` a new one gets 503. A client that leaves while
its body is being read is one line of log, never a traceback.

Before the guard, aiohttp kept each of these connections for good (and idle
keep-alive ones for an hour): 20,000 of them took every file descriptor."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import AsyncIterator

import pytest

from tests.conftest import make_test_config
from tests.test_http_probes import no_tracebacks
from tests.test_metrics import samples, value
from tests.test_operator_api import TOKEN
from tests.ussd_harness import running_server
from tests.whatsapp_harness import NUMBER_ID, SIM

FORM = b"Content-Type: application/x-www-form-urlencoded\r\n"
CSV_UPLOAD = f"Content-Type: text/csv\r\nAuthorization: {TOKEN['Authorization']}\r\n".encode()
LIMITS = {
    "http.max_connections": 4,
    "http.idle_timeout_seconds": 1,
    "http.head_timeout_seconds": 1,
    "http.body_timeout_seconds": 1,
}
ENDED = 8.0  # seconds a test waits for the server to end a connection (limits are 1 s)


@pytest.fixture
async def server(key_prefix: str, redis) -> AsyncIterator[tuple[str, int]]:
    overrides = {**LIMITS, "web.enabled": True, "whatsapp.enabled": True}
    config = make_test_config(
        key_prefix, environ=SIM, **overrides, **{"whatsapp.phone_number_id": NUMBER_ID}
    )
    async with running_server(config) as base:
        host, port = base.removeprefix("http://").split(":")
        yield host, int(port)


async def _open(server: tuple[str, int]) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(*server)


async def _until_closed(reader: asyncio.StreamReader) -> bytes:
    """What the server sends before it ends the connection (fails if it never does)."""
    try:
        return await asyncio.wait_for(reader.read(), ENDED)
    except ConnectionResetError:
        return b""


async def test_a_connection_that_sends_nothing_or_half_a_head_is_ended(server, caplog) -> None:
    before = await _ended_counts(server)
    (silent, _), (partial, writer) = await _open(server), await _open(server)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
    assert await _until_closed(silent) == b""
    answer = await _until_closed(partial)
    assert answer.startswith(b"HTTP/1.1 408 ") and b"not sent in time" in answer
    no_tracebacks(caplog)
    after = await _ended_counts(server)
    assert after["no_request"] - before["no_request"] == 1
    assert after["head_timeout"] - before["head_timeout"] == 1


async def test_a_served_connection_left_idle_is_closed(server) -> None:
    reader, writer = await _open(server)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = await _until_closed(reader)
    assert answer.startswith(b"HTTP/1.1 200 ")  # answered, then closed while idle


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/daftar/phone", FORM),
        ("/helpdesk/login", FORM),
        ("/whatsapp/webhook", b"Content-Type: application/json\r\n"),
        ("/ussd/africastalking", FORM),
        ("/api/health-workers", CSV_UPLOAD),
    ],
)  # fmt: skip
async def test_a_body_that_stops_coming_ends_the_connection_without_a_traceback(
    server, path: str, headers: bytes, caplog
) -> None:
    reader, writer = await _open(server)
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 400\r\n".encode()
    with caplog.at_level(logging.INFO):
        writer.write(head + headers + b"\r\n" + b"a=1&")
        assert await _until_closed(reader) == b""  # nobody is left to answer
        await asyncio.sleep(0.2)
    no_tracebacks(caplog)
    assert "main port: 1 request bodies did not arrive in time (closed)" in caplog.text
    await _still_serves(server)


async def test_a_client_leaving_mid_body_is_one_line_of_log(server, caplog) -> None:
    before = await _ended_counts(server)
    with caplog.at_level(logging.INFO):
        for path in ("/daftar/phone", "/helpdesk/login", "/ussd/africastalking"):
            _, writer = await _open(server)
            writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 400\r\n".encode())
            writer.write(FORM + b"\r\nphone=0812")
            await writer.drain()
            await asyncio.sleep(0.2)
            writer.transport.abort()
        await asyncio.sleep(0.3)
    no_tracebacks(caplog)
    assert caplog.text.count("the client left before its request was read") == 3
    assert (await _ended_counts(server))["client_left"] - before["client_left"] == 3
    await _still_serves(server)


async def test_past_max_connections_a_new_one_gets_503_until_one_closes(server, caplog) -> None:
    held = [await _open(server) for _ in range(4)]  # [http] max_connections
    await asyncio.sleep(0.1)
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            reader, _ = await _open(server)
            answer = await asyncio.wait_for(reader.read(), ENDED)
            assert answer.startswith(b"HTTP/1.1 503 ") and b"too many connections" in answer
        await asyncio.sleep(1.5)  # a sweep logs them
    counts = [int(n) for n in re.findall(r"main port: (\d+) connections refused", caplog.text)]
    assert sum(counts) == 3 and len(counts) < 3  # counted, not a line per connection
    held[0][1].transport.abort()
    await asyncio.sleep(0.1)
    await _still_serves(server)


async def test_a_client_that_reads_none_of_its_replies_is_dropped(server) -> None:
    """Pipelined requests whose replies fill the socket: the server stops waiting."""
    sock = socket.create_connection(server)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    reader, writer = await asyncio.open_connection(sock=sock)
    request = b"GET /api/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"
    writer.write(request * 200)
    await asyncio.sleep(ENDED / 2)  # reading nothing while the server writes
    received = 0
    with pytest.raises(ConnectionResetError):
        while chunk := await asyncio.wait_for(reader.read(65536), ENDED):
            received += len(chunk)
        raise ConnectionResetError("closed")  # an orderly close also ends it
    assert received < 200 * 1000  # far from all 200 replies


async def _ended_counts(server: tuple[str, int]) -> dict[str, float]:
    """vaksin_http_connections_ended_total by reason, from GET /metrics."""
    reader, writer = await _open(server)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), ENDED)
    scraped = samples(answer.partition(b"\r\n\r\n")[2].decode())
    reasons = ("no_request", "head_timeout", "client_left")
    return {r: value(scraped, "vaksin_http_connections_ended_total", reason=r) for r in reasons}


async def _still_serves(server: tuple[str, int]) -> None:
    reader, writer = await _open(server)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (await asyncio.wait_for(reader.read(), ENDED)).startswith(b"HTTP/1.1 200 ")
