"""WAIT for replicas ([redis] wait_replicas), timed and counted for /metrics.

Operators who turn WAIT on need to see what it costs and how often it fails from the
service's side (a slow or lost replica shows here before anyone reads Redis's INFO):
``vaksin_redis_wait_seconds`` and ``vaksin_redis_waits_total{outcome}``.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from core import metrics
from core.redis_wire import FastRedisError


class _Waiter(Protocol):
    replicas: int
    replicas_timeout_ms: int
    epoch: int

    async def execute(self, *args: Any) -> Any: ...


async def wait_for_replicas(client: _Waiter, since: int | None) -> None:
    """WAIT on ``client``'s connection; FastRedisError unless ``client.replicas`` acked
    in time on the connection of ``since`` (see FastRedis.wait_replicas)."""
    started = time.perf_counter()
    acked = await client.execute("WAIT", client.replicas, client.replicas_timeout_ms)
    metrics.REDIS_WAIT_SECONDS.observe(time.perf_counter() - started)
    if since is not None and client.epoch != since:
        metrics.REDIS_WAITS.labels("reconnected").inc()
        raise FastRedisError("reconnected since the writes: their replication is unknown")
    if int(acked) < client.replicas:
        metrics.REDIS_WAITS.labels("too_few").inc()
        raise FastRedisError(f"write reached {acked} of {client.replicas} replica(s)")
    metrics.REDIS_WAITS.labels("ok").inc()
