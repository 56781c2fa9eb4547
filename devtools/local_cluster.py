"""A throw-away Redis Cluster on this machine, for the tests and `python -m bench --cluster`.

``redis-server --cluster-enabled yes`` on free ports (no persistence, in a temporary
directory), then ``redis-cli --cluster create ... --cluster-yes``, then a wait until
every node says ``cluster_state:ok`` and knows every slot. With ``replicas=1`` each
master gets one replica, and a small ``node_timeout_ms`` makes a killed master's
replica take over within a couple of seconds (the failover test).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_ports(count: int) -> list[int]:
    """Ports free now (and their cluster bus ports, port + 10000)."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + 10000 < 65536 and port not in ports:
            ports.append(port)
    return ports


def _cli(port: int, *args: str, timeout: float = 10.0) -> str:
    done = subprocess.run(
        ["redis-cli", "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.stdout


def _nodes(port: int) -> list[list[str]]:
    """CLUSTER NODES as seen from ``port``: the fields of each line (id, address, flags,
    master id...)."""
    return [line.split() for line in _cli(port, "CLUSTER", "NODES").splitlines()]


def _port(fields: list[str]) -> int:
    """A CLUSTER NODES line's port (its address is host:port@bus-port)."""
    return int(fields[1].split("@")[0].rsplit(":", 1)[1])


@dataclass
class LocalCluster:
    """``masters`` masters with ``replicas`` replicas each; ``start()``, then ``stop()``."""

    masters: int = 3
    replicas: int = 0
    node_timeout_ms: int = 2000
    ports: list[int] = field(default_factory=list)
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    directory: Path | None = None

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def start(self, timeout: float = 60.0) -> LocalCluster:
        self.directory = Path(tempfile.mkdtemp(prefix="vx-cluster-"))
        self.ports = free_ports(self.masters * (1 + self.replicas))
        try:
            for port in self.ports:
                self._start_node(port)
            nodes = [f"127.0.0.1:{port}" for port in self.ports]
            replicas = ["--cluster-replicas", str(self.replicas)]
            subprocess.run(
                ["redis-cli", "--cluster", "create", *nodes, *replicas, "--cluster-yes"],
                capture_output=True,
                check=True,
                timeout=timeout,
            )
            self.wait_ok(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_node(self, port: int) -> None:
        assert self.directory is not None
        node_dir = self.directory / str(port)
        node_dir.mkdir(exist_ok=True)  # a restarted node keeps its nodes.conf
        log = (node_dir / "redis.log").open("ab")
        self.processes[port] = subprocess.Popen(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(port)),
                *("--dir", str(node_dir), "--save", "", "--appendonly", "no"),
                *("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
                *("--cluster-node-timeout", str(self.node_timeout_ms)),
                # A replica may take over at once after its master dies (the failover test).
                *("--cluster-replica-validity-factor", "0"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while _cli(port, "PING").strip() != "PONG":
            if time.monotonic() > deadline or self.processes[port].poll() is not None:
                raise RuntimeError(f"cluster node {port} did not start; see {node_dir}")
            time.sleep(0.05)

    def alive(self) -> list[int]:
        return [port for port, proc in self.processes.items() if proc.poll() is None]

    def wait_ok(self, timeout: float = 60.0) -> None:
        """Until every live node reports cluster_state:ok with all 16384 slots served and
        every replica is linked to its master."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            infos = [_cli(port, "CLUSTER", "INFO") for port in self.alive()]
            links = [_cli(port, "INFO", "replication") for port in self.alive()]
            linked = all("role:slave" not in r or "master_link_status:up" in r for r in links)
            if linked and all(
                "cluster_state:ok" in i and "cluster_slots_ok:16384" in i for i in infos
            ):
                return
            time.sleep(0.1)
        raise RuntimeError("the Redis Cluster did not become ready")

    def master_ports(self) -> list[int]:
        """Ports of the live masters (from a live node's CLUSTER NODES)."""
        nodes = _nodes(self.alive()[0])
        return sorted(
            _port(fields) for fields in nodes if "master" in fields[2] and "fail" not in fields[2]
        )

    def replica_of(self, master_port: int) -> int:
        """The port of a replica of the master on ``master_port``."""
        nodes = _nodes(master_port)
        master_id = next(fields[0] for fields in nodes if "myself" in fields[2])
        return next(_port(fields) for fields in nodes if fields[3] == master_id)

    def wait_promoted(self, dead: int, timeout: float = 60.0) -> None:
        """Until the cluster has replaced master ``dead`` (killed) and serves every slot."""
        deadline = time.monotonic() + timeout
        while dead in self.master_ports():
            if time.monotonic() > deadline:
                raise RuntimeError(f"no replica took over from {dead}")
            time.sleep(0.1)
        self.wait_ok(max(deadline - time.monotonic(), 1.0))

    def restart(self, port: int, timeout: float = 60.0) -> None:
        """Start a killed node again: it rejoins as a replica of the master that replaced it."""
        self._start_node(port)
        deadline = time.monotonic() + timeout
        while "master_link_status:up" not in _cli(port, "INFO", "replication"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"node {port} did not rejoin as a replica")
            time.sleep(0.1)
        self.wait_ok(max(deadline - time.monotonic(), 1.0))

    def restart_master(self, port: int, timeout: float = 60.0) -> None:
        """Start a killed master that has no replica again: its nodes.conf gives it back
        its slots (their keys are gone: no persistence)."""
        self._start_node(port)
        self.wait_ok(timeout)

    def kill(self, port: int) -> None:
        """kill -9 one node (a crash: no goodbye to its clients or replicas)."""
        self.processes[port].send_signal(signal.SIGKILL)
        self.processes[port].wait(timeout=10)

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        self.processes.clear()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
