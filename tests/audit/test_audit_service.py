"""AuditService over a real grpc.aio server on a loopback port."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from audit_factories import ORIGIN, make_access
from google.protobuf.timestamp_pb2 import Timestamp

from audit import merkle
from audit.checkpoint import NoteSigner, verify_checkpoint
from audit.entry import Outcome
from audit.service import SERVICE_NAME, add_to_server
from audit.store import AuditLog, CheckpointPolicy
from audit.verify import verify_export
from pingan.serving import add_standard_services, permission_denied
from pingan.v1 import audit_pb2, audit_pb2_grpc

AUDITOR_TOKEN = "auditor-token"


def _authorize(context: grpc.aio.ServicerContext, method: str) -> None:
    md = dict(context.invocation_metadata() or ())
    if md.get("authorization") != f"Bearer {AUDITOR_TOKEN}":
        raise permission_denied(f"{method} needs the auditor role")


@contextlib.asynccontextmanager
async def _serve(url: str, signer: NoteSigner) -> AsyncIterator[audit_pb2_grpc.AuditServiceStub]:
    log = AuditLog(url, origin=ORIGIN, signer=signer, policy=CheckpointPolicy(10, 3600))
    for start in range(0, 25, 5):  # checkpoints at 10 and 20; entries 20..24 not yet covered
        log.append_many([
            make_access(i, person="P-x" if i % 4 == 0 else f"P-{i}", department="health" if i % 2 else "justice",
                        outcome=Outcome.DENIED if i % 3 == 0 else Outcome.CLEAR)
            for i in range(start, start + 5)
        ])
    server = grpc.aio.server()
    add_to_server(server, log, _authorize)
    add_standard_services(server, [SERVICE_NAME], aio=True)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield audit_pb2_grpc.AuditServiceStub(channel)
    finally:
        await channel.close()
        await server.stop(None)
        log.close()


@pytest.fixture
async def stub(database_url: str, signer: NoteSigner) -> AsyncIterator[audit_pb2_grpc.AuditServiceStub]:
    """The service on each backend."""
    async with _serve(database_url, signer) as s:
        yield s


@pytest.fixture
async def sqlite_stub(tmp_path: Path, signer: NoteSigner) -> AsyncIterator[audit_pb2_grpc.AuditServiceStub]:
    """The service on SQLite only: request validation does not depend on the backend."""
    async with _serve(f"sqlite:///{tmp_path / 'audit.db'}", signer) as s:
        yield s


MD = (("authorization", f"Bearer {AUDITOR_TOKEN}"),)


async def _query(stub: audit_pb2_grpc.AuditServiceStub, **kw: object) -> list[int]:
    return [r.entry.index async for r in stub.QueryEntries(audit_pb2.QueryEntriesRequest(**kw), metadata=MD)]


async def test_query_filters_and_pages(stub: audit_pb2_grpc.AuditServiceStub) -> None:
    assert await _query(stub, person_id="P-x") == [0, 4, 8, 12, 16, 20, 24]
    assert await _query(stub, department="health", outcome="denied") == [3, 9, 15, 21]
    assert await _query(stub, page_size=5) == [0, 1, 2, 3, 4]
    assert await _query(stub, page_size=5, from_index=5) == [5, 6, 7, 8, 9]
    assert await _query(stub, kind="identity_merge") == []
    future = Timestamp()
    future.FromSeconds(4_000_000_000)
    assert await _query(stub, since=future) == []
    assert len(await _query(stub, until=future)) == 25


async def test_checkpoint_and_proofs_verify(stub: audit_pb2_grpc.AuditServiceStub, signer: NoteSigner) -> None:
    latest = await stub.GetLatestCheckpoint(audit_pb2.GetLatestCheckpointRequest(), metadata=MD)
    cp = verify_checkpoint(signer.verifier, latest.checkpoint, ORIGIN)
    assert (cp.size, cp.root_hash) == (latest.tree_size, latest.root_hash) == (20, latest.root_hash)
    inc = await stub.GetInclusionProof(audit_pb2.GetInclusionProofRequest(index=7), metadata=MD)
    assert inc.tree_size == 20
    merkle.verify_inclusion(inc.leaf_hash, 7, 20, list(inc.proof), cp.root_hash)
    cons = await stub.GetConsistencyProof(audit_pb2.GetConsistencyProofRequest(from_size=10, to_size=20), metadata=MD)
    entries = [r.entry async for r in stub.QueryEntries(audit_pb2.QueryEntriesRequest(page_size=10), metadata=MD)]
    root10 = merkle.root([e.leaf_hash for e in entries])
    merkle.verify_consistency(10, 20, root10, cp.root_hash, list(cons.proof))
    assert all(merkle.leaf_hash(e.canonical) == e.leaf_hash for e in entries)


async def test_export_streams_a_verifiable_file(stub: audit_pb2_grpc.AuditServiceStub, signer: NoteSigner, tmp_path: Path) -> None:
    out = tmp_path / "export.jsonl"
    with out.open("wb") as fh:
        async for chunk in stub.ExportRange(audit_pb2.ExportRangeRequest(from_index=5), metadata=MD):
            fh.write(chunk.chunk)
    with out.open("rb") as fh:
        report = verify_export(fh, signer.verifier)
    assert (report.from_index, report.to_index, report.entries) == (5, 20, 15)


@pytest.mark.parametrize(
    ("call", "request_", "code", "message"),
    [
        ("QueryEntries", audit_pb2.QueryEntriesRequest(outcome="maybe"), grpc.StatusCode.INVALID_ARGUMENT, "outcome"),
        ("QueryEntries", audit_pb2.QueryEntriesRequest(kind="gossip"), grpc.StatusCode.INVALID_ARGUMENT, "kind"),
        ("QueryEntries", audit_pb2.QueryEntriesRequest(page_size=5000), grpc.StatusCode.INVALID_ARGUMENT, "page_size"),
        ("QueryEntries", audit_pb2.QueryEntriesRequest(since=Timestamp(seconds=10), until=Timestamp(seconds=5)),
         grpc.StatusCode.INVALID_ARGUMENT, "since"),
        ("GetInclusionProof", audit_pb2.GetInclusionProofRequest(index=20), grpc.StatusCode.INVALID_ARGUMENT, "not below"),
        ("GetInclusionProof", audit_pb2.GetInclusionProofRequest(index=1, tree_size=99), grpc.StatusCode.INVALID_ARGUMENT, "exceeds"),
        ("GetConsistencyProof", audit_pb2.GetConsistencyProofRequest(from_size=0, to_size=5), grpc.StatusCode.INVALID_ARGUMENT, "at least 1"),
        ("GetConsistencyProof", audit_pb2.GetConsistencyProofRequest(from_size=9, to_size=5), grpc.StatusCode.INVALID_ARGUMENT, "greater"),
        ("GetConsistencyProof", audit_pb2.GetConsistencyProofRequest(from_size=1, to_size=99), grpc.StatusCode.INVALID_ARGUMENT, "exceeds"),
        ("ExportRange", audit_pb2.ExportRangeRequest(to_index=15), grpc.StatusCode.INVALID_ARGUMENT, "nearest checkpoint sizes: 10 and 20"),
        ("ExportRange", audit_pb2.ExportRangeRequest(from_index=20, to_index=20), grpc.StatusCode.INVALID_ARGUMENT, "below"),
    ],
)
async def test_bad_requests_get_actionable_statuses(
    sqlite_stub: audit_pb2_grpc.AuditServiceStub, call: str, request_: object, code: grpc.StatusCode, message: str
) -> None:
    method = getattr(sqlite_stub, call)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        result = method(request_, metadata=MD)
        if hasattr(result, "__aiter__"):
            async for _ in result:
                pass
        else:
            await result
    assert info.value.code() == code
    assert message in info.value.details()
    assert "Traceback" not in info.value.details()


async def test_callers_without_the_auditor_role_are_refused(stub: audit_pb2_grpc.AuditServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetLatestCheckpoint(audit_pb2.GetLatestCheckpointRequest())
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in stub.QueryEntries(audit_pb2.QueryEntriesRequest(), metadata=(("authorization", "Bearer nope"),)):
            pass
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_empty_log_has_no_checkpoint(tmp_path: Path, signer: NoteSigner) -> None:
    log = AuditLog(f"sqlite:///{tmp_path / 'e.db'}", origin=ORIGIN, signer=signer)
    server = grpc.aio.server()
    add_to_server(server, log, _authorize)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        s = audit_pb2_grpc.AuditServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await s.GetLatestCheckpoint(audit_pb2.GetLatestCheckpointRequest(), metadata=MD)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await s.GetInclusionProof(audit_pb2.GetInclusionProofRequest(index=0), metadata=MD)
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await server.stop(None)
    log.close()
