"""Who is asking: the client's address, behind a trusted reverse proxy or not, and
whether it is still there."""

from __future__ import annotations

from aiohttp import web


def client_address(request: web.Request, header: str) -> str:
    """The peer's address, or with ``header`` (``[http] client_address_header``) the
    right-most entry of it: the one the trusted proxy itself added (a client can put
    anything to its left). Per-client limits count by this address; behind a proxy,
    the peer alone would make every client one."""
    if header:
        forwarded = request.headers.get(header, "").split(",")[-1].strip()
        if forwarded:
            return forwarded[:64]
    return request.remote or "unknown"


def client_left(request: web.BaseRequest, exc: BaseException) -> bool:
    """``exc`` says the client closed its connection while its request was read (then
    nobody is left to answer); a ConnectionResetError from elsewhere (a Redis socket)
    while the client waits is a failure like any other."""
    transport = request.transport
    return isinstance(exc, ConnectionResetError) and (transport is None or transport.is_closing())
