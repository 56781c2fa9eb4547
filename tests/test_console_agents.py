"""Agents managed with `console-agent` while the server runs: a password is the same
on both sides (the command's standard input, the sign-in form), and removing an agent
or changing their password ends the sessions they have open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.console_harness import AGENT, OPERATOR_TOKEN, PASSWORD, Desk, console_config
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


async def test_a_changed_password_or_a_removed_agent_ends_their_open_sessions(
    served: tuple[str, Path],
) -> None:
    base, agents = served
    async with _browser() as a, _browser() as b:
        agent, operator = Desk(a, base), Desk(b, base)
        assert await agent.sign_in(name=AGENT, secret=PASSWORD) == 200
        assert await operator.sign_in(token=OPERATOR_TOKEN) == 200
        changed = agent_command(agents, "add", AGENT, "--password-stdin", stdin="a new one 123\n")
        assert changed.returncode == 0, changed.stderr
        _, page = await agent.get("/helpdesk")
        assert "<h1>Sign in</h1>" in page  # the old password's session has ended
        assert await agent.sign_in(name=AGENT, secret="a new one 123") == 200
        assert agent_command(agents, "remove", AGENT).returncode == 0
        status, page = await agent.post("/helpdesk/search", query="081234560008")
        assert status == 401 and "Your sign-in has ended" in page
        _, page = await agent.get("/helpdesk/audit")
        assert "<h1>Sign in</h1>" in page
        assert (await operator.get("/helpdesk/audit"))[0] == 200  # a token's sign-in stays
        assert "<h1>Audit log</h1>" in operator.page


async def test_a_token_taken_out_of_the_file_ends_its_sessions_at_the_next_start(
    key_prefix: str, tmp_path: Path, redis
) -> None:
    """Tokens are read at start-up: a token session outlived a restart that dropped its
    token (the sessions live in Redis). A token still in the file keeps its session."""
    kept, dropped = "desk:kept-token-0123456789", "desk2:dropped-token-0123456789"
    first = {"USSD_OPERATOR_API_TOKEN": f"{kept}\n{dropped}"}
    config = console_config(key_prefix, tmp_path, environ=first)
    async with running_server(config) as base, _browser() as a, _browser() as b:
        stays, goes = Desk(a, base), Desk(b, base)
        assert await stays.sign_in(token=kept.split(":")[1]) == 200
        assert await goes.sign_in(token=dropped.split(":")[1]) == 200
        cookies = a.cookie_jar, b.cookie_jar
    second = {"USSD_OPERATOR_API_TOKEN": kept}
    async with (
        running_server(console_config(key_prefix, tmp_path, environ=second)) as base,
        aiohttp.ClientSession(cookie_jar=cookies[0]) as a,
        aiohttp.ClientSession(cookie_jar=cookies[1]) as b,
    ):
        stays, goes = Desk(a, base), Desk(b, base)
        assert (await stays.get("/helpdesk/audit"))[0] == 200
        assert "<h1>Audit log</h1>" in stays.page
        _, page = await goes.get("/helpdesk/audit")
        assert "<h1>Sign in</h1>" in page
