"""API tests run against the real service on two real databases: a SQLite file and PostgreSQL.

Each test gets a fresh database copied from a migrated template, so migrations run once per
backend and tests stay independent. PostgreSQL is a throwaway cluster from Debian's
binaries, started here and stopped at the end of the session; it lives in memory where the
machine has room, since copying a database is mostly creating files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from prepared import (
    ADMIN,
    Build,
    Prepare,
    Prepared,
    create_database,
    drop_database,
    service_settings,
)
from sqlalchemy import text

from api.auth.models import ApiKeyCreate, Role
from api.auth.service import issue_key
from api.core.config import ServiceSettings
from api.core.db import make_engine
from api.core.migrate import upgrade
from api.main import create_app

BACKENDS = ["sqlite", "postgresql"]
# A memory-backed folder for the throwaway cluster, used when it has this much room: each
# test's database is dropped after it, so the cluster stays at a few hundred MB.
MEMORY_FOLDER = Path("/dev/shm")
MEMORY_NEEDED = 2 * 1024**3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _postgres_bin() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


def _cluster_parent() -> str | None:
    """Where the cluster's folder goes: memory when there is room, else the usual temp folder.

    Creating a database from the template writes a few hundred files; on a disk's journal
    that costs ten times what it does in memory, and the API tests create one per test.
    """
    try:
        room = shutil.disk_usage(MEMORY_FOLDER).free
    except OSError:
        return None
    roomy = room >= MEMORY_NEEDED and os.access(MEMORY_FOLDER, os.W_OK)
    return str(MEMORY_FOLDER) if roomy else None


def _as_postgres(*command: str) -> list[str]:
    # The server refuses to run as root; run it as the postgres system user when we are root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Base URL of a throwaway PostgreSQL cluster on a free local port."""
    binaries = _postgres_bin()
    if binaries is None:
        message = "PostgreSQL server binaries not installed (apt-get install postgresql)"
        if os.environ.get("DISPATCH_REQUIRE_POSTGRES"):
            pytest.fail(message)  # CI promises a real PostgreSQL run; never skip it silently
        pytest.skip(message)
    folder = Path(tempfile.mkdtemp(prefix="dispatch-pg-", dir=_cluster_parent()))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    port = _free_port()
    data = folder / "data"
    quiet = {"stdout": subprocess.DEVNULL, "check": True}
    subprocess.run(
        _as_postgres(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "app"), **quiet
    )  # type: ignore[call-overload]
    subprocess.run(
        _as_postgres(
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-l",
            str(folder / "log"),
            "-o",
            f"-p {port} -k {folder} -F",
            "start",
        ),
        **quiet,
    )  # type: ignore[call-overload]
    try:
        yield f"postgresql+psycopg://app@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres(str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"),
            stdout=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str) -> str:
    engine = make_engine(create_database(postgres_server, "template_dispatch"))
    upgrade(engine)
    engine.dispose()
    return "template_dispatch"


@pytest.fixture(scope="session")
def prepare(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Prepare:
    """prepare(backend, name, build) -> Prepared: the database `build` fills, built once per
    backend and xdist worker, for a module's `prepared_database` to hand to `database_url`."""
    built: dict[tuple[str, str], Prepared] = {}

    def make(backend: str, name: str, build: Build) -> Prepared:
        if (backend, name) not in built:
            built[backend, name] = _build(request, tmp_path_factory, backend, name, build)
        return built[backend, name]

    return make


def _build(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    backend: str,
    name: str,
    build: Build,
) -> Prepared:
    if backend == "sqlite":
        path = tmp_path_factory.mktemp(name) / "prepared.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        extras = build(f"sqlite:///{path}")
        _checkpoint(f"sqlite:///{path}")
        return Prepared(str(path), extras)
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    database = f"p_{name}"
    return Prepared(database, build(create_database(server, database, template)))


def _checkpoint(url: str) -> None:
    """Writes an SQLite database's log into its file, so copying the file copies it all."""
    engine = make_engine(url)
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()


@pytest.fixture
def prepared_database() -> Prepared | None:
    """What `database_url` copies: None is the migrated template; a module overrides this
    with `prepare(...)` to start each test from a state it built once."""
    return None


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of the current backend: a copy of the migrated template, or of the
    module's prepared database; on PostgreSQL it is dropped after the test."""
    prepared: Prepared | None = request.getfixturevalue("prepared_database")
    if backend == "sqlite":
        target = tmp_path / "dispatch.db"
        source = prepared.source if prepared else request.getfixturevalue("sqlite_template")
        shutil.copy(source, target)
        yield f"sqlite:///{target}"
        return
    server = request.getfixturevalue("postgres_server")
    template = prepared.source if prepared else request.getfixturevalue("postgres_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield create_database(server, name, template)
    finally:
        # The cluster's folder goes at the end of the session anyway: a failed drop costs
        # only room.
        with contextlib.suppress(Exception):
            drop_database(server, name)


@pytest.fixture
def settings(database_url: str) -> ServiceSettings:
    return service_settings(database_url)


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def admin() -> dict[str, str]:
    return dict(ADMIN)


@pytest.fixture
def key_for(client: TestClient) -> KeyMaker:
    """Authorization headers for a fresh key of a role (drivers name their vehicle), scoped
    to `areas` when given, else chain-wide."""
    from sqlmodel import Session

    def make(
        role: Role | str, vehicle_code: str | None = None, areas: list[str] | None = None
    ) -> dict[str, str]:
        with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
            issued = issue_key(
                session=session,
                request=ApiKeyCreate(
                    name=f"{role} key",
                    role=Role(role),
                    vehicle_code=vehicle_code,
                    areas=areas or [],
                ),
            )
        return {"Authorization": f"Bearer {issued.key}"}

    return make


@pytest.fixture(scope="session")
def ray_installed() -> None:
    """Skips, saying so, where the optional `cluster` extra is not installed."""
    try:
        import ray  # noqa: F401
    except ImportError:
        pytest.skip("Ray is not installed (pip install -e '.[cluster]'); Ray runner not tested")


@pytest.fixture(scope="module")
def ray_cluster(ray_installed: None) -> Iterator[Any]:
    """A real two-node Ray cluster on loopback (ray_cluster.RayCluster), stopped after the
    module; the tests' own process is its driver."""
    import ray
    from ray_cluster import start_cluster

    cluster = start_cluster()
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.stop()
