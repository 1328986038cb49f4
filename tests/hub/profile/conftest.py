"""A whole deployment for the profile tests: synthetic departments, seven real
adapters on loopback, a real hub (grpc.aio) in a background event loop.

Built once per module: every test talks to the same servers over gRPC, as a grid
worker's app would. Adapters listen on fixed free ports so a test can kill one
and bring it back at the same address.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest

from pingan.cli.sandbox import (
    EXAMPLES,
    Keys,
    LoopThread,
    free_port,
    prepare_environment,
    running_adapters,
    write_hub_config,
)
from pingan.v1 import common_pb2, profile_pb2, profile_pb2_grpc

PERSONS = 400
SEED = 11



@dataclass
class Resident:
    person_id: str
    jurisdiction: str
    id_number: str
    departments: frozenset[str]
    groups: tuple[int, ...]


@dataclass
class Deployment:
    root: Path
    data: Path
    keys: Keys
    runtime: Any
    loop: LoopThread
    adapters: dict[str, Any]
    ports: dict[str, int]
    residents: list[Resident]
    channel: grpc.Channel
    stub: profile_pb2_grpc.ProfileServiceStub
    tokens: dict[str, str] = field(default_factory=dict)

    def md(self, who: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[who]}"),)

    def profile(self, who: str, purpose: str = "routine_visit", justification: str = "", **query: Any) -> Any:
        request = profile_pb2.GetPersonProfileRequest(
            query=profile_pb2.PersonQuery(**query), purpose=purpose, justification=justification
        )
        return self.stub.GetPersonProfile(request, metadata=self.md(who), timeout=15)

    def audit_size(self) -> int:
        return int(self.runtime.audit_log.size())

    def last_entry(self) -> Any:
        log = self.runtime.audit_log
        return log.entry(log.size() - 1).decode().entry

    def restart_adapter(self, name: str) -> None:
        from adapters.server import AdapterServer
        from pingan.cli.sandbox import adapter_config

        server = AdapterServer.from_config(
            adapter_config(name, self.root / "adapters", self.ports[name], witness_key=self.keys.signing_vkey)
        )
        server.start()
        self.adapters[name] = server


def _residents(runtime: Any, data: Path) -> list[Resident]:
    from adapters.config import load_config

    config = load_config(EXAMPLES / "public_security.toml")
    dataset = next(d for d in config.datasets if d.name == "population")
    id_column = dict(dataset.identity)["id_number"]
    with sqlite3.connect(data / "public_security.db") as db:
        rows = db.execute(f'SELECT "{dataset.id_column}", "{id_column}" FROM "{dataset.table}"').fetchall()
    found: dict[str, Resident] = {}
    for local_id, id_number in rows:
        if not id_number or len(str(id_number)) != 18 or not str(id_number)[:17].isdigit():
            continue
        person_id = runtime.identity.person_of("public_security", "population", str(local_id))
        info = runtime.identity.person(person_id) if person_id else None
        if info is None or not info.jurisdiction or person_id in found:
            continue
        departments = frozenset(ref.department for ref in runtime.identity.records_of(person_id))
        found[person_id] = Resident(person_id, info.jurisdiction, str(id_number), departments, tuple(info.groups))
    return list(found.values())


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from adapters.synth.generate import generate
    from hub.config import load_hub_config
    from hub.policy.jurisdiction import RoleAssignment
    from hub.runtime import HubRuntime

    root = tmp_path_factory.mktemp("deployment")
    data = root / "data"
    generate(PERSONS, SEED, data)
    prepare_environment(data)
    ports = {p.stem: free_port() for p in EXAMPLES.glob("*.toml")}
    keys = Keys.generate(root / "keys")
    with running_adapters(root / "adapters", ports, witness_key=keys.signing_vkey) as adapters:
        addresses = {name: s.address for name, s in adapters.items()}
        config = load_hub_config(write_hub_config(root, keys, addresses, deadline_ms=1500))
        runtime = HubRuntime.create(config)
        loop = LoopThread()
        port = loop.run(runtime.start())
        runtime.link()
        residents = _residents(runtime, data)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        d = Deployment(
            root, data, keys, runtime, loop, adapters, ports, residents, channel, profile_pb2_grpc.ProfileServiceStub(channel)
        )
        home = max(residents, key=lambda r: ("health" in r.departments, len(r.departments)))
        corrections = next(r for r in residents if common_pb2.SENSITIVE_GROUP_COMMUNITY_CORRECTIONS in r.groups)
        street = "/".join(corrections.jurisdiction.split("/")[:2])
        runtime.policy_store.add_assignments(
            [
                RoleAssignment("gw-1", "grid_worker", home.jurisdiction),
                RoleAssignment("jo-1", "justice_officer", street),
                RoleAssignment("aud-1", "auditor", home.jurisdiction.split("/")[0]),
            ]
        )
        runtime.admin.sync_active()
        d.tokens = {
            "grid_worker": keys.token("gw-1", "grid_office", ["grid_worker"], [home.jurisdiction]),
            "justice": keys.token("jo-1", "justice", ["justice_officer"], [street]),
            "auditor": keys.token("aud-1", "audit_office", ["auditor"], [home.jurisdiction.split("/")[0]]),
        }
        d.home = home  # type: ignore[attr-defined]
        d.corrections = corrections  # type: ignore[attr-defined]
        d.other = next(r for r in residents if not r.jurisdiction.startswith(home.jurisdiction))  # type: ignore[attr-defined]
        try:
            yield d
        finally:
            channel.close()
            loop.run(runtime.stop())
            loop.close()
            for server in d.adapters.values():
                server.stop(0)
