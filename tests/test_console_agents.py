"""Agents managed with `console-agent` while the server runs: a password is the same
on both sides (the command's standard input, the sign-in form)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.console_harness import Desk, console_config
from tests.test_console_agent_cli import agent_command
from tests.ussd_harness import running_server


@pytest.fixture
async def served(key_prefix: str, tmp_path: Path, redis) -> AsyncIterator[tuple[str, Path]]:
    """The server's base URL and its agents file (holding AGENT)."""
    config = console_config(key_prefix, tmp_path)
    async with running_server(config) as base:
        yield base, tmp_path / "console_agents"


def _browser() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def test_a_password_from_a_windows_file_with_spaces_around_it_signs_in(
    served: tuple[str, Path],
) -> None:
    base, agents = served
    spaced = "  kata sandi budi  "
    added = agent_command(agents, "add", "budi", "--password-stdin", stdin=spaced + "\r\n")
    assert added.returncode == 0, added.stderr
    async with _browser() as http:
        desk = Desk(http, base)
        assert await desk.sign_in(name="budi", secret=spaced.strip()) == 401
        assert await desk.sign_in(name="budi", secret=spaced) == 200
        assert "Signed in as <strong>budi</strong>" in desk.page
