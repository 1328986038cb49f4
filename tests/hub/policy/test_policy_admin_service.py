"""PolicyAdmin over a real grpc.aio server on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hub.policy.admin_service import (
    SERVICE_NAME,
    PolicyAdminService,
    add_to_server,
    metadata_identity_for_tests,
)
from hub.policy.administration import PolicyAdministration
from hub.policy.bundle import PolicyBundle
from hub.policy.decision_point import PolicyDecisionPoint
from hub.policy.rego_embedded import EmbeddedRego
from hub.policy.store import PolicyStore
from pingan.serving import add_standard_services, mark_serving
from pingan.v1 import policy_pb2, policy_pb2_grpc

ALICE = (("x-pingan-user", "alice"), ("x-pingan-roles", "policy_owner"))
BOB = (("x-pingan-user", "bob"), ("x-pingan-roles", "policy_owner"))
GRID = (("x-pingan-user", "gw-1"), ("x-pingan-roles", "grid_worker"))


@pytest.fixture()
async def stub(database_url: str, policy_bundle: PolicyBundle) -> AsyncIterator[Any]:
    store = PolicyStore.connect(database_url)
    admin = PolicyAdministration(store, EmbeddedRego)
    admin.bootstrap(policy_bundle)
    admin.pdp = PolicyDecisionPoint(admin.load_active(), recorder=store.record)
    server = grpc.aio.server()
    add_to_server(server, PolicyAdminService(admin, metadata_identity_for_tests))
    health = add_standard_services(server, [SERVICE_NAME], aio=True)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await mark_serving(health, [SERVICE_NAME])
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    client = policy_pb2_grpc.PolicyAdminStub(channel)
    client.channel = channel
    client.pdp = admin.pdp
    client.bundle = policy_bundle
    yield client
    await channel.close()
    await server.stop(None)
    store.engine.dispose()


async def _code(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code(), info.value.details() or ""


async def test_health_and_list(stub: Any) -> None:
    h = await health_pb2_grpc.HealthStub(stub.channel).Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
    assert h.status == health_pb2.HealthCheckResponse.SERVING
    resp = await stub.ListVersions(policy_pb2.ListVersionsRequest(), metadata=ALICE)
    assert [(v.hash, v.state) for v in resp.versions] == [(stub.bundle.content_hash, "active")]


async def test_identity_and_roles_are_enforced(stub: Any) -> None:
    code, _ = await _code(stub.ListVersions(policy_pb2.ListVersionsRequest()))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    code, msg = await _code(stub.ListVersions(policy_pb2.ListVersionsRequest(), metadata=GRID))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "policy_owner" in msg


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        (policy_pb2.ProposeChangeRequest(description="x"), "at least one file"),
        (policy_pb2.ProposeChangeRequest(files=[policy_pb2.PolicyFile(path="../x.rego", content="p")], description="x"), "'..'"),
        (policy_pb2.ProposeChangeRequest(files=[policy_pb2.PolicyFile(path="rego/x.rego", content="package x")]), "description is required"),
        (policy_pb2.ProposeChangeRequest(files=[policy_pb2.PolicyFile(path="rego/x.rego", content="package x")] * 2, description="d"), "twice"),
        (policy_pb2.ProposeChangeRequest(files=[policy_pb2.PolicyFile(path="rego/x.rego", content=" ")], description="d"), "empty"),
        (policy_pb2.ProposeChangeRequest(files=[policy_pb2.PolicyFile(path="rego/x.rego", content="package x")], description="d", replay_last=10**6), "replay_last"),
    ],
)
async def test_propose_validates(stub: Any, request_: Any, fragment: str) -> None:
    code, msg = await _code(stub.ProposeChange(request_, metadata=ALICE))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and fragment in msg


async def test_hash_validation_and_unknown_version(stub: Any) -> None:
    code, _ = await _code(stub.ApproveChange(policy_pb2.ApproveChangeRequest(hash="abc"), metadata=BOB))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    code, _ = await _code(stub.Rollback(policy_pb2.RollbackRequest(hash="0" * 64), metadata=BOB))
    assert code == grpc.StatusCode.NOT_FOUND
    code, msg = await _code(stub.Rollback(policy_pb2.RollbackRequest(hash=stub.bundle.content_hash), metadata=BOB))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "active" in msg


async def test_parse_errors_come_back_located(stub: Any) -> None:
    bad = policy_pb2.PolicyFile(path="rego/extra.rego", content="package pingan.extra\n\nimport rego.v1\n\nx := {\n")
    resp = await stub.ProposeChange(policy_pb2.ProposeChangeRequest(files=[bad], description="broken"), metadata=ALICE)
    assert resp.version.state == "rejected"
    assert {e.path for e in resp.errors} == {"rego/extra.rego"}
    assert any(e.line == 5 and e.column > 0 for e in resp.errors), resp.errors


async def test_propose_then_a_second_owner_approves(stub: Any) -> None:
    rules = stub.bundle.files["casbin/policy.csv"] + "p, grid_worker, ^education/[a-z_]+/L3$, read, deny\n"
    resp = await stub.ProposeChange(
        policy_pb2.ProposeChangeRequest(files=[policy_pb2.PolicyFile(path="casbin/policy.csv", content=rules)], description="tighten"),
        metadata=ALICE,
    )
    assert resp.version.state == "proposed" and not resp.errors
    assert len(resp.tests) >= 40 and all(t.passed for t in resp.tests)
    code, msg = await _code(stub.ApproveChange(policy_pb2.ApproveChangeRequest(hash=resp.version.hash), metadata=ALICE))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "different" in msg
    approved = await stub.ApproveChange(policy_pb2.ApproveChangeRequest(hash=resp.version.hash), metadata=BOB)
    assert approved.version.state == "active" and approved.version.approved_by == "bob"
    assert approved.version.activated_at.seconds > 0
    assert stub.pdp.policy.hash == resp.version.hash
    back = await stub.Rollback(policy_pb2.RollbackRequest(hash=stub.bundle.content_hash), metadata=BOB)
    assert back.version.state == "active" and stub.pdp.policy.hash == stub.bundle.content_hash
