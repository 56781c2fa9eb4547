"""The ports `serve` listens on, each checked free before a worker is forked.

A port taken by another program used to be found by the workers: each one failed to
bind, exited and was started again until the crash-loop rule gave up, with a traceback
per try. Now every port is bound once up front and let go; a taken one stops the start
with one line naming its setting.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from dataclasses import dataclass

from core.config import Config
from core.settings import http_settings
from gateways.settings import gateway_settings


class PortUnavailable(Exception):
    """A port cannot be listened on (the message says which and why, in one line)."""


@dataclass(frozen=True)
class Listening:
    """One port `serve` binds, named as the operator sets it."""

    setting: str  # "[http] port", "--port", "[ussd] gateway_port"
    host: str
    port: int


def serve_ports(config: Config, host: str, port: int, setting: str) -> list[Listening]:
    """Every port `serve` binds: the main one (``host``/``port``, given by ``setting``)
    and, when set, the lean gateway listener's (on ``[http] host``, as it binds it)."""
    ports = [Listening(setting, host, port)]
    gateway_port = gateway_settings(config).gateway_port
    if gateway_port:
        ports.append(Listening("[ussd] gateway_port", http_settings(config).host, gateway_port))
    return ports


def check_ports_free(ports: list[Listening]) -> None:
    """PortUnavailable for the first port that cannot be listened on, or that another of
    ``ports`` has too (with SO_REUSEPORT the two listeners would split its traffic)."""
    claimed: dict[int, Listening] = {}
    for listening in ports:
        other = claimed.setdefault(listening.port, listening)
        if other is not listening:
            raise PortUnavailable(
                f"port {listening.port} ({listening.setting}) is {other.setting} too"
            )
        check_port_free(listening)


def check_port_free(listening: Listening) -> None:
    """Bind the port as the workers will, but WITHOUT SO_REUSEPORT, then let go.

    The workers share their ports with SO_REUSEPORT, which would as gladly share them
    with another `serve` already running there: the traffic split silently between the two.
    """
    host, port = listening.host, listening.port
    named = f"port {port} ({listening.setting})"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise PortUnavailable(f"{named}: cannot listen on {host}: {exc.strerror}") from None
    with contextlib.ExitStack() as held:  # every address held at once, as asyncio binds them
        for family, kind, proto, _, address in infos:
            sock = held.enter_context(socket.socket(family, kind, proto))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio does
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise PortUnavailable(f"{named} is in use") from None
                raise PortUnavailable(f"{named}: cannot listen on {host}: {exc.strerror}") from None
