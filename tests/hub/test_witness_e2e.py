"""Departments as witnesses, end to end (issue 8 item 2): adapters configured with the
hub's checkpoint key serve the real hub, and refuse a hub whose log was forked.

The forked hub is a second hub process with the same signing key and the same
identity database but its own, different audit history: exactly what an operator
who rewrote the log and kept the key would run. Every department refuses it
(FAILED_PRECONDITION), so its sections are unavailable and no data leaves.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from pingan.cli.sandbox import EXAMPLES, Keys, LoopThread, prepare_environment, running_adapters, write_hub_config
from pingan.v1 import common_pb2, profile_pb2, profile_pb2_grpc

UNAVAILABLE = common_pb2.SECTION_OUTCOME_UNAVAILABLE


class Hub:
    def __init__(self, root: Path, keys: Keys, addresses: dict[str, str], audit_name: str) -> None:
        from hub.config import load_hub_config
        from hub.runtime import HubRuntime

        config_dir = root / audit_name
        config_dir.mkdir(exist_ok=True)
        path = write_hub_config(
            config_dir, keys, addresses,
            database_url=f"sqlite:///{root / 'hub.db'}", audit_url=f"sqlite:///{root / (audit_name + '.db')}",
        )
        self.runtime = HubRuntime.create(load_hub_config(path))
        self.loop = LoopThread()
        self.port = self.loop.run(self.runtime.start())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = profile_pb2_grpc.ProfileServiceStub(self.channel)

    def profile(self, token: str, person_id: str) -> Any:
        request = profile_pb2.GetPersonProfileRequest(
            query=profile_pb2.PersonQuery(person_id=person_id), purpose="routine_visit"
        )
        return self.stub.GetPersonProfile(request, metadata=(("authorization", f"Bearer {token}"),), timeout=30)

    def close(self) -> None:
        self.channel.close()
        self.loop.run(self.runtime.stop())
        self.loop.close()


@pytest.fixture(scope="module")
def witnessed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Keys, dict[str, str]]]:
    from adapters.synth.generate import generate

    root = tmp_path_factory.mktemp("witness")
    data = root / "data"
    generate(300, 5, data)
    prepare_environment(data)
    keys = Keys.generate(root / "keys")
    with running_adapters(root / "adapters", witness_key=keys.signing_vkey) as adapters:
        yield root, keys, {name: s.address for name, s in adapters.items()}


def test_adapters_serve_the_hub_and_refuse_a_forked_log(witnessed: tuple[Path, Keys, dict[str, str]]) -> None:
    from hub.policy.jurisdiction import RoleAssignment

    root, keys, addresses = witnessed
    assert EXAMPLES.exists()
    real = Hub(root, keys, addresses, "audit")
    try:
        real.runtime.link()
        person_id = next(
            p for p in real.runtime.identity.persons()
            if len({r.department for r in real.runtime.identity.records_of(p)}) >= 2
            and (info := real.runtime.identity.person(p)) is not None and info.jurisdiction
        )
        grid = real.runtime.identity.person(person_id).jurisdiction
        real.runtime.policy_store.add_assignments([RoleAssignment("gw-w", "grid_worker", grid)])
        real.runtime.admin.sync_active()
        token = keys.token("gw-w", "grid_office", ["grid_worker"], [grid])
        for _ in range(3):  # several requests: the adapters accept growing checkpoints with proofs
            response = real.profile(token, person_id)
            assert response.sections and all(s.outcome != UNAVAILABLE for s in response.sections), response
    finally:
        real.close()

    forked = Hub(root, keys, addresses, "forked-audit")
    try:
        forked.runtime.admin.sync_active()
        response = forked.profile(token, person_id)
        assert response.sections
        for section in response.sections:
            assert section.outcome == UNAVAILABLE
            assert "FAILED_PRECONDITION" in section.reason, section.reason
    finally:
        forked.close()

    again = Hub(root, keys, addresses, "audit")  # the real log, after a restart: accepted again
    try:
        response = again.profile(token, person_id)
        assert all(s.outcome != UNAVAILABLE for s in response.sections), response
    finally:
        again.close()
