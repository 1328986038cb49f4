"""A whole deployment for the alert tests: synthetic departments (a seed where a
corrections subject missed the last three sessions), seven real adapters on loopback
and a real hub (grpc.aio) in a background event loop, built with pingan.cli.sandbox.

Built once per module; the feed polls every 0.5 s, and the tests also call
``poll_once`` after linkage so the current alert set is known before they watch.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
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
from pingan.v1 import profile_pb2_grpc

PERSONS = 400
SEED = 21  # one community-corrections subject, with the last three sessions missed



def missed_subjects(data: Path) -> list[str]:
    """Corrections subjects whose latest three sessions are all absences (from the rows themselves)."""
    with sqlite3.connect(data / "justice.db") as db:
        rows = db.execute("SELECT dxbh, hdrq, hdbh, cxqk FROM jz_jyhd").fetchall()
    sessions: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for dxbh, hdrq, hdbh, cxqk in rows:
        sessions[dxbh].append((hdrq, hdbh, cxqk))
    return sorted(d for d, s in sessions.items() if [c for _, _, c in sorted(s)[-3:]] == ["缺席"] * 3)


@dataclass
class AlertDeployment:
    root: Path
    data: Path
    keys: Keys
    runtime: Any
    loop: LoopThread
    adapters: dict[str, Any]
    channel: grpc.Channel
    stub: profile_pb2_grpc.ProfileServiceStub
    subject_person: str
    subject_jurisdiction: str
    tokens: dict[str, str] = field(default_factory=dict)

    def md(self, who: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[who]}"),)


@pytest.fixture(scope="module")
def alert_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertDeployment]:
    from adapters.synth.generate import generate
    from hub.config import load_hub_config
    from hub.policy.jurisdiction import RoleAssignment
    from hub.runtime import HubRuntime

    root = tmp_path_factory.mktemp("alerts")
    data = root / "data"
    generate(PERSONS, SEED, data)
    missed = missed_subjects(data)
    assert missed, "the synthetic seed must contain a subject with three missed sessions"
    prepare_environment(data)
    ports = {p.stem: free_port() for p in EXAMPLES.glob("*.toml")}
    with running_adapters(root / "adapters", ports) as adapters:
        keys = Keys.generate(root / "keys")
        path = write_hub_config(root, keys, {n: s.address for n, s in adapters.items()}, deadline_ms=3000)
        path.write_text(path.read_text(encoding="utf-8") + "[alerts]\npoll_seconds = 0.5\n", encoding="utf-8")
        runtime = HubRuntime.create(load_hub_config(path))
        loop = LoopThread()
        port = loop.run(runtime.start())
        runtime.link()
        report = loop.run(runtime.alerts.poll_once())
        assert not report.failed, report.failed
        person_id = runtime.identity.person_of("justice", "corrections", missed[0])
        info = runtime.identity.person(person_id) if person_id else None
        assert info is not None and info.jurisdiction, "the subject must be linked to a located person"
        street = "/".join(info.jurisdiction.split("/")[:2])
        # a grid worker of another grid of the same community
        parts = info.jurisdiction.split("/")
        other_grid = "/".join([*parts[:-1], "G99" if parts[-1] != "G99" else "G98"])
        runtime.policy_store.add_assignments(
            [
                RoleAssignment("jo-1", "justice_officer", street),
                RoleAssignment("gw-2", "grid_worker", other_grid),
            ]
        )
        runtime.pdp.activate(runtime.admin.load_active())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        d = AlertDeployment(
            root, data, keys, runtime, loop, adapters, channel, profile_pb2_grpc.ProfileServiceStub(channel),
            person_id, info.jurisdiction,
        )
        d.tokens = {
            "justice": keys.token("jo-1", "justice", ["justice_officer"], [street]),
            "other_grid": keys.token("gw-2", "grid_office", ["grid_worker"], [other_grid]),
        }
        try:
            yield d
        finally:
            channel.close()
            loop.run(runtime.stop())
            loop.close()
