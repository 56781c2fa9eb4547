"""`console-agent`, the help desk's password file from the command line, as an operator's
script runs it: no terminal, the password on standard input or nothing there at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ussd_server.console.passwords import check_agent

ROOT = Path(__file__).resolve().parent.parent


def agent_command(agents: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "USSD_CONSOLE_AGENTS_FILE": str(agents)}
    argv = [sys.executable, "-m", "ussd_server", "console-agent", *args]
    return subprocess.run(
        argv, env=env, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=60
    )


def test_agents_are_added_listed_and_removed_without_a_terminal(tmp_path: Path) -> None:
    agents = tmp_path / "console_agents"
    added = agent_command(agents, "add", "siti", "--password-stdin", stdin="a long password\n")
    assert added.returncode == 0 and "added siti" in added.stdout, added.stderr
    assert check_agent(agents, "siti", "a long password")
    assert agent_command(agents, "list").stdout.split() == ["siti"]
    assert agent_command(agents, "remove", "siti").returncode == 0
    assert agent_command(agents, "list").stdout.split() == []


def test_a_name_the_file_cannot_hold_is_refused_before_any_password_is_asked(
    tmp_path: Path,
) -> None:
    agents = tmp_path / "console_agents"
    refused = agent_command(agents, "add", "siti:admin")
    assert refused.returncode == 2
    assert refused.stderr == "error: agent name: 1-64 letters, digits or _ . @ -\n"
    assert not agents.exists()


def test_no_password_on_standard_input_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    agents = tmp_path / "console_agents"
    refused = agent_command(agents, "add", "siti", stdin="")
    assert refused.returncode == 2
    assert "error: no password given: type it twice, or use --password-stdin" in refused.stderr
    assert "Traceback" not in refused.stderr and not agents.exists()
