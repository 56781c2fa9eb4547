"""No script and no transaction spans two Redis Cluster slots.

Scripts: every script call the suite makes checks its keys (``Call.check_slots``, on in
tests/conftest.py), and the ``cluster`` variants of the journeys run them on a real
cluster, which refuses a call whose keys live in two slots. Transactions: each
``pipeline(transaction=True)`` in the code is listed below with the keys it touches;
a new one fails :func:`test_every_transaction_is_listed` until it is added here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT
from core.redis_cluster import command_key, key_slot, parse_cluster_url
from core.redis_wire import Call, ReplyError, Script
from smpp.keys import SmsKeys
from ussd_server.keys import ShellKeys

SMS, SHELL = SmsKeys("vx"), ShellKeys("vx")
# file -> the key sets its transactions write (one list per transaction)
TRANSACTIONS: dict[str, list[Callable[[], list[str]]]] = {
    "smpp/outbox_sender.py": [
        lambda: [SMS.sms_outbox_failed(), SMS.sms_outbox(), SMS.sms_outbox_attempts()]
    ],
    "ussd_server/console/sessions.py": [
        lambda: [SHELL.console_session("abc")],
        lambda: [SHELL.console_login_failures("203.0.113.7")],
    ],
    "ussd_server/console/audit.py": [lambda: [SHELL.console_audit()]],
}
PACKAGES = ("core", "registration", "dialogue", "gateways", "smpp", "whatsapp", "web")


def _sources() -> list[Path]:
    roots = [*PACKAGES, "ussd_server"]
    return [path for root in roots for path in (PROJECT_ROOT / root).rglob("*.py")]


def test_every_transaction_is_listed() -> None:
    found: dict[str, int] = {}
    for path in _sources():
        count = len(re.findall(r"transaction\s*=\s*True", path.read_text()))
        if count:
            found[str(path.relative_to(PROJECT_ROOT))] = count
    assert found == {name: len(sets) for name, sets in TRANSACTIONS.items()}


@pytest.mark.parametrize("name", sorted(TRANSACTIONS))
def test_each_transaction_stays_in_one_slot(name: str) -> None:
    for keys in TRANSACTIONS[name]:
        assert len({key_slot(key) for key in keys()}) == 1, keys()


def test_slots_are_the_ones_redis_computes() -> None:
    # Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
    assert key_slot("123456789") == 12739
    assert key_slot("foo") == 12182
    assert key_slot("{user1000}.following") == key_slot("{user1000}.followers")
    # An empty first tag: the whole key is hashed (CLUSTER KEYSLOT says 8363 and 10673).
    assert (key_slot("foo{}{bar}"), key_slot("foo{}{bar}x")) == (8363, 10673)
    assert key_slot("vx:w:{w:1234}:rec") == key_slot("w:1234")


def test_a_script_call_over_two_slots_is_refused_before_it_is_sent() -> None:
    script = Script("return 1")
    assert Call(script, ["a{x}", "b{x}"], []).command()[2] == 2
    with pytest.raises(ReplyError, match="CROSSSLOT"):
        Call(script, ["a{x}", "b{y}"], []).command()


def test_commands_route_by_their_key() -> None:
    assert command_key(("GET", "k")) == "k"
    assert command_key(("EVALSHA", "sha", 2, "k1", "k2", "arg")) == "k1"
    assert command_key(("EVALSHA", "sha", 0, "arg")) is None
    assert command_key(("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")) == "s"
    assert command_key(("PING",)) is None


def test_cluster_urls() -> None:
    address = parse_cluster_url("redis+cluster://u:p%40w@h1:7000,h2:7001")
    assert address.seeds == (("h1", 7000), ("h2", 7001))
    assert (address.username, address.password) == ("u", "p@w")
    assert parse_cluster_url("redis://h:6379/0").seeds == (("h", 6379),)
