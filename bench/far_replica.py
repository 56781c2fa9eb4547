"""Bookings with WAIT when the replica is another zone away: what wait_connections buys.

    python -m bench far_replica [--delay-ms 2] [--wait-connections 1,4,16]

A booking WAITs for a replica on the connection its writes went over, and Redis answers
nothing else on that connection meanwhile. Loopback replicas answer in tens of
microseconds, which hides that; here one redis-server replicates through a proxy that
holds every chunk ``--delay-ms`` each way (bench/delay_proxy.py), and 100 bookers book
through one Registry with ``[redis] wait_replicas = 1`` and each ``wait_connections``
given: bookings/s and their latency, then what a blast's flush costs per SMS with the
same WAIT (bench/cluster.py's figures). Starts its own servers; 6379 is not touched.
"""

from __future__ import annotations

import argparse
import asyncio

from bench.cluster import registry_figures
from bench.cluster_targets import single_with_replica


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench far_replica", description=__doc__)
    parser.add_argument("--delay-ms", type=float, default=2.0, help="proxy delay each way")
    parser.add_argument("--wait-connections", default="1,4,16", help="values to compare")
    parser.add_argument("--workers", type=int, default=20_000, help="health workers to import")
    parser.add_argument("--bookings", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args(argv)
    with single_with_replica(args.delay_ms) as target:
        for count in (int(c) for c in args.wait_connections.split(",")):
            label = f"replica {args.delay_ms:g} ms away, WAIT on, wait_connections={count}"
            extra = {"redis.wait_connections": count}
            asyncio.run(registry_figures(args, label, target.url, 1, extra))
    return 0
