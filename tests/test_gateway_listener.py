"""The lean gateway listener speaks plain HTTP/1.1 correctly, including to a rude client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from urllib.parse import urlencode

import pytest

from gateways import connections, listener
from tests.ussd_harness import PHONE, gateway_server, load_registry

FORM = "application/x-www-form-urlencoded"


def dial(session: str, text: str = "") -> bytes:
    body = urlencode(
        {"sessionId": session, "serviceCode": "*119#", "phoneNumber": "+" + PHONE, "text": text}
    ).encode()
    head = (
        f"POST /ussd/africastalking HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


@pytest.fixture
async def gateway(config, redis, keys):
    await load_registry(redis, keys)
    async with gateway_server(config, "gateway") as base:
        host, port = base.removeprefix("http://").split(":")
        yield host, int(port)


async def test_pipelined_hops_are_answered_in_order_on_one_connection(gateway) -> None:
    reader, writer = await asyncio.open_connection(*gateway)
    writer.write(dial("pipe-1") + dial("pipe-1", "1"))  # two requests in one write
    first = await read_response(reader)
    second = await read_response(reader)
    assert first[0] == second[0] == 200
    assert first[2].startswith(b"CON ") and b"Daftar vaksinasi" in first[2]
    assert b"tenaga kesehatan" in second[2]
    writer.write(dial("pipe-1", "1*1"))  # the connection stays open
    assert b"6 digit terakhir NIK" in (await read_response(reader))[2]
    writer.close()


async def test_idle_connections_are_closed_and_busy_ones_kept_open(gateway, monkeypatch) -> None:
    monkeypatch.setattr(listener, "IDLE_SECONDS", 0.3)
    idle_reader, idle_writer = await asyncio.open_connection(*gateway)
    busy_reader, busy_writer = await asyncio.open_connection(*gateway)
    for _ in range(9):  # three idle periods of requests, 0.1 s apart
        busy_writer.write(dial("busy-1"))
        assert (await read_response(busy_reader))[0] == 200
        await asyncio.sleep(0.1)
    assert await asyncio.wait_for(idle_reader.read(), 5) == b""  # closed by the server
    busy_writer.write(dial("busy-1", "1"))
    assert b"tenaga kesehatan" in (await read_response(busy_reader))[2]
    idle_writer.close()
    busy_writer.close()


async def test_wrong_paths_methods_and_bytes_get_their_status(gateway) -> None:
    reader, writer = await asyncio.open_connection(*gateway)
    writer.write(b"POST /api/stats HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    assert (await read_response(reader))[0] == 404  # only gateway endpoints here
    writer.write(b"GET /ussd/africastalking HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, _ = await read_response(reader)
    assert status == 405 and headers["allow"] == "POST"  # RFC 9110 asks for Allow
    writer.write(b"\x16\x03\x01 this is not http\r\n\r\n")
    status, _, body = await read_response(reader)
    assert status == 400 and b"malformed" in body
    assert await reader.read() == b""  # and the connection is closed
    writer.close()


async def test_oversized_bodies_and_headers_are_refused(gateway) -> None:
    reader, writer = await asyncio.open_connection(*gateway)
    big = b"text=" + b"1" * 20000
    writer.write(
        f"POST /ussd/json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(big)}\r\n\r\n".encode()
        + big
    )
    status, headers, body = await read_response(reader)
    assert status == 400 and "bytes" in json.loads(body)["error"]  # the dialect's own format
    assert headers["connection"] == "close"
    writer.close()
    reader, writer = await asyncio.open_connection(*gateway)
    many = "".join(f"X-Filler-{n}: {'v' * 100}\r\n" for n in range(120))
    writer.write(f"POST /ussd/json HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
    assert (await read_response(reader))[0] == 431
    writer.close()


async def test_chunked_bodies_and_http_1_0_clients(gateway) -> None:
    reader, writer = await asyncio.open_connection(*gateway)
    body = json.dumps(
        {"session_id": "ch-1", "msisdn": PHONE, "service_code": "*119#", "new_session": True}
    ).encode()
    chunks = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (body[:10], body[10:]))
    writer.write(
        b"POST /ussd/json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    )
    status, _, answer = await read_response(reader)
    assert status == 200 and json.loads(answer)["end"] is False
    writer.close()
    reader, writer = await asyncio.open_connection(*gateway)
    writer.write(dial("old-1").replace(b"HTTP/1.1", b"HTTP/1.0"))
    status, headers, _ = await read_response(reader)
    assert status == 200 and headers.get("connection") == "close"
    assert await reader.read() == b""
    writer.close()


async def test_a_request_line_or_header_without_end_is_cut_off(gateway) -> None:
    """httptools keeps a header until its CRLF: 300 MB of one took minutes of CPU and
    stalled every other hop; now the head is counted as it arrives."""
    for start, status in ((b"POST /ussd/json?", 414), (b"POST /ussd/json HTTP/1.1\r\nX-A: ", 431)):
        reader, writer = await asyncio.open_connection(*gateway)
        writer.write(start)
        with contextlib.suppress(ConnectionError):
            for _ in range(64):  # 4 MB, never a CRLF
                writer.write(b"a" * 65536)
                await writer.drain()
        assert (await read_response(reader))[0] == status
        writer.close()
    reader, writer = await asyncio.open_connection(*gateway)
    writer.write(dial("after-long"))
    assert (await read_response(reader))[0] == 200  # everybody else is served
    writer.close()


def resident_mb() -> float:
    """This process's resident memory (the server under test runs in it)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


async def test_a_client_that_reads_no_replies_is_held_by_tcp_not_buffered(
    gateway, monkeypatch
) -> None:
    """Pipelined requests from a client that never reads were all parsed and answered
    into memory (1 GB in 29 s); now reading stops while replies cannot be written."""
    monkeypatch.setattr(listener, "IDLE_SECONDS", 2.0)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, gateway)
    chunk = b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" * 2048  # 404s, larger than asked
    before, sent, stalled = resident_mb(), 0, 0.0
    while sent < 24_000_000 and stalled < 0.5:  # the old code took it all
        try:
            sent += sock.send(chunk)
            stalled = 0.0
        except BlockingIOError:
            await asyncio.sleep(0.05)
            stalled += 0.05
    assert sent < 24_000_000 and resident_mb() - before < 40, (sent, resident_mb() - before)
    await asyncio.sleep(2.5)  # idle: replies it will not read are dropped, not kept
    with pytest.raises((ConnectionError, OSError)):
        for _ in range(1000):
            if not await loop.sock_recv(sock, 1 << 20):
                raise ConnectionResetError("closed")
    sock.close()


async def test_a_request_trickled_past_its_deadline_gets_408(gateway, monkeypatch) -> None:
    monkeypatch.setattr(listener, "REQUEST_SECONDS", 0.3)
    reader, writer = await asyncio.open_connection(*gateway)
    head = dial("slow-1")
    for piece in (head[:10], head[10:20], head[20:]):  # each byte keeps it "active"
        writer.write(piece)
        await asyncio.sleep(0.2)
    assert (await read_response(reader))[0] == 408
    assert await reader.read() == b""
    writer.close()


async def test_a_request_that_stalls_gets_408_and_an_idle_one_is_kept(gateway, monkeypatch):
    """A request begun and then stalled was closed silently when the idle time ran out
    (75 s): the deadline was checked only when more bytes came."""
    monkeypatch.setattr(listener, "REQUEST_SECONDS", 0.5)
    reader, writer = await asyncio.open_connection(*gateway)
    writer.write(dial("calm-1"))
    assert (await read_response(reader))[0] == 200
    await asyncio.sleep(0.8)  # between requests: no deadline runs
    writer.write(dial("calm-1", "1"))
    assert (await read_response(reader))[0] == 200
    writer.write(dial("stall-1")[:-5])  # its headers and part of its body, then nothing
    status, _, body = await asyncio.wait_for(read_response(reader), 5)
    assert status == 408 and b"not complete in time" in body
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


async def test_bodies_far_too_large_all_get_their_400_not_a_reset(gateway) -> None:
    """The 400 for a body past the limit was followed by a plain close: the client, still
    sending, got a reset (15 of 20 clients), not the answer. Now the close lingers."""
    body = b"sessionId=big&serviceCode=*119%23&text=" + b"1" * 2_000_000
    request = (
        f"POST /ussd/africastalking HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\n"
        f"Transfer-Encoding: chunked\r\n\r\n{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )

    async def post() -> bytes:
        reader, writer = await asyncio.open_connection(*gateway)
        writer.write(request)
        try:
            await writer.drain()
            return await asyncio.wait_for(reader.read(), 10)
        except ConnectionError as exc:
            return repr(exc).encode()
        finally:
            writer.close()

    answers = await asyncio.gather(*(post() for _ in range(20)))
    assert [a.partition(b"\r\n")[0] for a in answers] == [b"HTTP/1.1 400 Bad Request"] * 20


async def test_head_expect_absolute_targets_and_host_as_rfc_9112_says(gateway) -> None:
    reader, writer = await asyncio.open_connection(*gateway)
    writer.write(b"HEAD /ussd/json HTTP/1.1\r\nHost: x\r\n\r\n" + dial("head-1"))
    status, headers, _ = await asyncio.wait_for(read_response_head(reader), 5)
    assert status == 405 and int(headers["content-length"]) > 0  # and no body follows:
    assert (await read_response(reader))[0] == 200  # the next reply parses
    for target in (b"http://gw.example/ussd/africastalking", b"/ussd/%61fricastalking"):
        writer.write(dial("abs-1").replace(b"/ussd/africastalking", target, 1))
        assert (await read_response(reader))[0] == 200, target
    writer.write(dial("nohost").replace(b"Host: x\r\n", b""))
    assert (await read_response(reader))[0] == 400
    body = dial("exp-1").partition(b"\r\n\r\n")[2]
    expecting = dial("exp-1").replace(b"Host: x\r\n", b"Host: x\r\nExpect: 100-continue\r\n")
    writer.write(expecting.partition(b"\r\n\r\n")[0] + b"\r\n\r\n")
    assert await asyncio.wait_for(reader.readline(), 2) == b"HTTP/1.1 100 Continue\r\n"
    assert await reader.readline() == b"\r\n"
    writer.write(body)
    assert (await read_response(reader))[0] == 200
    writer.write(b"POST /ussd/json HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
    status, _, answer = await asyncio.wait_for(read_response(reader), 2)  # not waited for
    assert status == 400 and "bytes" in json.loads(answer)["error"]
    writer.close()


async def read_response_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """A reply to HEAD: the status and headers, no body."""
    status = int((await reader.readline()).split()[1])
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, b""


async def test_past_the_connection_cap_a_new_connection_gets_503(gateway, monkeypatch) -> None:
    """Half-sent connections once took every file descriptor (new dials on both ports got
    EOF, Redis could not be reached); past the cap a connection is refused at once."""
    monkeypatch.setattr(connections, "MAX_CONNECTIONS", 2)
    held = [await asyncio.open_connection(*gateway) for _ in range(2)]
    reader, writer = await asyncio.open_connection(*gateway)
    assert (await asyncio.wait_for(read_response(reader), 2))[0] == 503
    assert await reader.read() == b""
    writer.close()
    held[0][1].close()
    await asyncio.sleep(0.1)  # its place is free again
    reader, writer = await asyncio.open_connection(*gateway)
    writer.write(dial("after-cap"))
    assert (await read_response(reader))[0] == 200
    for _, w in [*held[1:], (reader, writer)]:
        w.close()
