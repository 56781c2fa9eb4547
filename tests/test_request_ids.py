"""Request ids of messages that arrive without one: never the same twice, also across the
worker processes `serve --workers N` forks after start-up (one log, many workers)."""

from __future__ import annotations

import os

from core.logs import new_request_id


def test_forked_workers_do_not_repeat_each_others_request_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: its first ids, to the parent
        os.close(read)
        os.write(write, " ".join(new_request_id() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read().split()
    os.waitpid(pid, 0)
    mine = [new_request_id() for _ in range(3)]
    assert len(set(mine + child)) == 6
