"""``pingan hub serve --workers N``: several real hub processes on one port (SO_REUSEPORT).

Worker 0 links; the other learns the resolution from the shared database. Callers on
separate connections are answered whichever worker the kernel hands them to; when one
worker dies the supervisor stops the rest (a service manager then restarts the set);
a single hub never shares its port by accident.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import grpc
import pytest

from hub.errors import ConfigError
from pingan.cli.sandbox import (
    Keys,
    LoopThread,
    free_port,
    prepare_environment,
    running_adapters,
    write_hub_config,
)
from pingan.v1 import profile_pb2, profile_pb2_grpc


def _config(root: Path, keys: Keys, addresses: dict[str, str], port: int = 0) -> Path:
    path = write_hub_config(root, keys, addresses)
    text = path.read_text(encoding="utf-8")
    text = text.replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{port}"')
    text = text.replace('engine = "embedded"', 'engine = "embedded"\nsync_seconds = 0.3')
    path.write_text(text, encoding="utf-8")
    return path


def _wait_for(check, seconds: float = 90.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("timed out")


def _a_resident(root: Path, data: Path) -> tuple[str, str]:
    """(ID number, grid) of a public-security resident the hub linked."""
    from hub.identity.index import IdentityIndex

    index = IdentityIndex(f"sqlite:///{root / 'hub.db'}")
    with sqlite3.connect(data / "public_security.db") as db:
        rows = db.execute("SELECT rybh, sfzh FROM rk_syrk").fetchall()
    for local_id, id_number in rows:
        person = index.person_of("public_security", "population", str(local_id))
        info = index.person(person) if person else None
        if (
            info is not None
            and info.jurisdiction
            and id_number
            and len(id_number) == 18
            and id_number[:17].isdigit()
        ):
            return id_number, info.jurisdiction
    raise AssertionError("no linked resident")


@pytest.mark.timeout(300)
def test_two_workers_share_the_port_and_stop_together(tmp_path: Path) -> None:
    from adapters.synth.generate import generate
    from hub.database import hub_engine
    from hub.policy.jurisdiction import RoleAssignment
    from hub.policy.store import PolicyStore
    from hub.workers import Supervisor

    data = tmp_path / "data"
    generate(120, 5, data)
    prepare_environment(data)
    keys = Keys.generate(tmp_path / "keys")
    with running_adapters(tmp_path / "adapters", witness_key=keys.signing_vkey) as adapters:
        config = _config(tmp_path, keys, {name: s.address for name, s in adapters.items()})
        supervisor = Supervisor(str(config), 2, link_every=0)
        port = supervisor.start()
        try:
            _wait_for(lambda: (tmp_path / "hub.db").exists() and _linked(tmp_path))
            id_number, grid = _a_resident(tmp_path, data)
            PolicyStore(hub_engine(f"sqlite:///{tmp_path / 'hub.db'}")).add_assignments(
                [RoleAssignment("gw-9", "grid_worker", grid)]
            )
            time.sleep(1.0)  # both workers reload assignments every 0.3 s (policy.sync_seconds)
            token = keys.token("gw-9", "grid_office", ["grid_worker"], [grid])
            request = profile_pb2.GetPersonProfileRequest(
                query=profile_pb2.PersonQuery(id_number=id_number), purpose="routine_visit"
            )
            persons = set()
            for _ in range(8):  # separate connections: the kernel spreads them over both workers
                with grpc.insecure_channel(
                    f"127.0.0.1:{port}", options=(("grpc.use_local_subchannel_pool", 1),)
                ) as channel:
                    response = profile_pb2_grpc.ProfileServiceStub(channel).GetPersonProfile(
                        request, metadata=(("authorization", f"Bearer {token}"),), timeout=30
                    )
                persons.add(response.header.person_id)
            assert len(persons) == 1 and persons != {""}
            workers = [w.process for w in supervisor._running]
            assert len(workers) == 2 and all(p.is_alive() for p in workers)
            os.kill(workers[1].pid, signal.SIGKILL)
            assert supervisor.wait() != 0  # one died: the set is stopped and the failure reported
            assert not any(p.is_alive() for p in workers)
        finally:
            supervisor.stop()


def _linked(root: Path) -> bool:
    with sqlite3.connect(root / "hub.db") as db:
        try:
            return db.execute("SELECT count(*) FROM identity_persons").fetchone()[0] > 0
        except sqlite3.OperationalError:
            return False


def test_a_single_hub_does_not_share_its_port(tmp_path: Path) -> None:
    from hub.config import load_hub_config
    from hub.runtime import HubRuntime

    keys = Keys.generate(tmp_path / "keys")
    port = free_port()
    config = load_hub_config(_config(tmp_path, keys, {}, port))
    first, second = HubRuntime.create(config), HubRuntime.create(config)
    loop = LoopThread()
    try:
        assert loop.run(first.start()) == port
        with pytest.raises(ConfigError, match="hub.listen"):
            loop.run(second.start())
    finally:
        loop.run(second.stop())
        loop.run(first.stop())
        loop.close()


def test_supervisor_refuses_a_worker_count_it_cannot_run(tmp_path: Path) -> None:
    from hub.workers import Supervisor, WorkerError

    for bad in (1, 0, 65):
        with pytest.raises(WorkerError, match="--workers"):
            Supervisor(str(tmp_path / "hub.toml"), bad, 0)
