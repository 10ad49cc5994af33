"""A real two-node Ray cluster on this machine, for benchmarks: a head and one worker node, each
on its own loopback address, started with `ray start` and stopped by process id.

`ray stop` is not used: it stops every Ray process of this user on the machine, another
cluster's too. Every process of this cluster names the cluster's own temporary folder on its
command line; those and their descendants are stopped, and nothing else.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from benchmarks.memory import descendants

ROOT = Path(__file__).resolve().parents[1]
HEAD_IP, WORKER_IP = "127.0.0.2", "127.0.0.3"
STOP_S = 10.0


@dataclass(frozen=True)
class LocalCluster:
    address: str  # host:port of the head, what DISPATCH_RAY_ADDRESS takes
    folder: Path  # the cluster's temporary folder

    def pids(self) -> list[int]:
        """Every live process of this cluster: those naming its folder, and their children."""
        marker = str(self.folder).encode()
        own = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if marker in cmdline.read_bytes():
                    own.append(int(cmdline.parent.name))
            except OSError:
                continue  # ended while we looked
        found = set(own)
        for pid in own:
            found.update(descendants(pid))
        found.discard(os.getpid())
        return sorted(found)


def _ray(*arguments: str, env: dict[str, str]) -> None:
    ray = Path(sys.executable).with_name("ray")
    command = [str(ray) if ray.exists() else "ray", *arguments]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, timeout=180)


@contextmanager
def local_cluster(port: int = 27379, cpus_per_node: int = 1) -> Iterator[LocalCluster]:
    """A head on 127.0.0.2:`port` and a worker node on 127.0.0.3, `cpus_per_node` CPUs each."""
    # Short: Ray's socket paths live under it and a Unix socket path has at most 107 bytes.
    folder = Path(tempfile.mkdtemp(prefix="rb-", dir="/tmp"))
    cluster = LocalCluster(f"{HEAD_IP}:{port}", folder)
    env = {
        **os.environ,
        "RAY_USAGE_STATS_ENABLED": "0",
        # Tasks run in Ray's worker processes, which must import the project from here.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    cpus = str(cpus_per_node)
    try:
        _ray(
            "start", "--head", "--node-ip-address", HEAD_IP, "--port", str(port),
            "--num-cpus", cpus, "--temp-dir", str(folder), "--disable-usage-stats",
            "--include-dashboard", "false", env=env,
        )  # fmt: skip
        _ray(
            "start", "--address", cluster.address, "--node-ip-address", WORKER_IP,
            "--num-cpus", cpus, "--temp-dir", str(folder), env=env,
        )  # fmt: skip
        yield cluster
    finally:
        stop(cluster)
        shutil.rmtree(folder, ignore_errors=True)


def stop(cluster: LocalCluster) -> None:
    """SIGTERM to every process of the cluster, SIGKILL to those left after STOP_S."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in cluster.pids():
            with suppress(ProcessLookupError):  # it ended on its own meanwhile
                os.kill(pid, sig)
        deadline = time.monotonic() + STOP_S
        while cluster.pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        if not cluster.pids():
            return
