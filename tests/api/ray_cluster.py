"""A real Ray cluster of two nodes on this machine, for tests: a head and a second node.

Each node lives on its own loopback address (Ray maps 127.0.0.1 to the machine's network
address, so never that one), in a temporary folder of its own, on ports nobody else holds.
Each `ray start --block` runs in a session of its own, so stopping the cluster ends exactly
its processes, never another Ray on the same machine.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HEAD_IP = "127.0.0.2"
WORKER_IP = "127.0.0.3"
ROOT = Path(__file__).resolve().parents[2]
START_S = 90.0
HEALTH_CHECK_MS = 1000


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class RayCluster:
    """A head and a second node, each with one CPU; `address` is what a service is given."""

    folder: Path
    address: str = ""
    nodes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _start_node(self, ip: str, *, head: bool) -> None:
        env = {
            **os.environ,
            "RAY_USAGE_STATS_ENABLED": "0",
            # The head marks a silent node dead after five missed health checks; at Ray's
            # 3 s apart that is 15 s of every dying-node test spent waiting, at 1 s it is 5 s.
            "RAY_health_check_period_ms": str(HEALTH_CHECK_MS),
            # Workers import the project from this checkout, installed or not.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        ray = str(Path(sys.executable).with_name("ray"))
        command = [ray, "start", "--block", "--node-ip-address", ip, "--num-cpus", "1"]
        command += ["--disable-usage-stats", "--object-store-memory", str(100 * 1024 * 1024)]
        command += [
            "--node-manager-port",
            str(_free_port(ip)),
            "--object-manager-port",
            str(_free_port(ip)),
            "--dashboard-agent-listen-port",
            str(_free_port(ip)),
            "--dashboard-agent-grpc-port",
            str(_free_port(ip)),
            "--runtime-env-agent-port",
            str(_free_port(ip)),
            "--metrics-export-port",
            str(_free_port(ip)),
        ]
        if head:
            port = _free_port(ip)
            self.address = f"{ip}:{port}"
            command += ["--head", "--port", str(port), "--include-dashboard", "false"]
            command += ["--temp-dir", str(self.folder)]
        else:
            command += ["--address", self.address]
        log = open(self.folder / f"start-{ip}.log", "wb")  # noqa: SIM115 - the node keeps it
        self.nodes.append(
            subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )

    def start(self) -> None:
        self._start_node(HEAD_IP, head=True)
        host, port = self.address.split(":")
        self._wait(lambda: _reachable(host, int(port)), "the head")
        self._start_node(WORKER_IP, head=False)
        self._wait(lambda: len(self.alive_nodes()) == 2, "the second node")

    def _wait(self, ready: object, what: str) -> None:
        deadline = time.monotonic() + START_S
        while not ready():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} of the Ray cluster did not start within {START_S} s")
            time.sleep(0.5)

    def alive_nodes(self) -> list[dict[str, object]]:
        import ray

        if not ray.is_initialized():
            ray.init(address=self.address, logging_level=logging.ERROR, log_to_driver=False)
        return [node for node in ray.nodes() if node["Alive"]]

    def kill_second_node(self) -> None:
        """The second node dies at once: every process of its session, the raylet first."""
        os.killpg(self.nodes[1].pid, signal.SIGKILL)

    def replace_second_node(self) -> None:
        """After `kill_second_node`: once the head has marked the dead node dead (it counts its
        core until then), a fresh second node joins, so later tests see two live cores again."""
        import ray

        self.nodes[1].wait(timeout=10)
        self._wait(lambda: ray.cluster_resources().get("CPU", 0) <= 1, "the dead node's removal")
        self.nodes.pop(1)
        self._start_node(WORKER_IP, head=False)
        self._wait(lambda: ray.cluster_resources().get("CPU", 0) >= 2, "the new second node")

    def kill_head(self) -> None:
        """The head dies at once, its control store (GCS) with it: the cluster is gone."""
        os.killpg(self.nodes[0].pid, signal.SIGKILL)

    def stop(self) -> None:
        """Ends every process of both nodes' sessions: a short grace, then a kill."""
        for signum, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
            for node in self.nodes:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.pid, signum)
            deadline = time.monotonic() + grace
            for node in self.nodes:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    node.wait(timeout=max(0.1, deadline - time.monotonic()))
        shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster() -> RayCluster:
    # A short folder: Ray's socket paths must fit in 107 bytes.
    cluster = RayCluster(folder=Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp")))
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
