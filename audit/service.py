"""AuditService (grpc.aio): queries, checkpoints, proofs and exports for auditors.

Every RPC first calls the injected ``authorize(context, method)``; the hub
passes one that requires the auditor role and raises
:class:`pingan.serving.StatusError` otherwise. Requests are validated and
answered with INVALID_ARGUMENT / NOT_FOUND / FAILED_PRECONDITION messages a
person can act on; database work runs in a thread so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from audit.entry import KINDS, Outcome
from audit.errors import ProofError, StoreError
from audit.export import export_lines, resolve_range
from audit.store import AuditLog, EntryFilter, StoredEntry
from pingan.serving import failed_precondition, grpc_errors, invalid_argument, not_found
from pingan.v1 import audit_pb2, audit_pb2_grpc

Authorize = Callable[[grpc.aio.ServicerContext, str], Awaitable[None] | None]

SERVICE_NAME = audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name
DEFAULT_PAGE = 100
MAX_PAGE = 1000
CHUNK = 64 * 1024
_OUTCOMES = {o.value for o in Outcome}


def _ts_us(ts: Timestamp) -> int:
    return ts.seconds * 1_000_000 + ts.nanos // 1000


def _entry_pb(e: StoredEntry) -> audit_pb2.AuditEntry:
    ts = Timestamp(seconds=e.logged_at_us // 1_000_000, nanos=(e.logged_at_us % 1_000_000) * 1000)
    return audit_pb2.AuditEntry(index=e.index, canonical=e.canonical, leaf_hash=e.leaf_hash, kind=e.kind, time=ts)


def _filter(req: audit_pb2.QueryEntriesRequest) -> EntryFilter:
    since = _ts_us(req.since) if req.HasField("since") else None
    until = _ts_us(req.until) if req.HasField("until") else None
    if since is not None and until is not None and since >= until:
        raise invalid_argument("since must be before until")
    if req.outcome and req.outcome not in _OUTCOMES:
        raise invalid_argument(f"outcome {req.outcome!r} is not one of {sorted(_OUTCOMES)}")
    if req.kind and req.kind not in KINDS:
        raise invalid_argument(f"kind {req.kind!r} is not one of {sorted(KINDS)}")
    for name in ("caller", "person_id", "department", "purpose"):
        if len(getattr(req, name)) > 128:
            raise invalid_argument(f"{name} is longer than 128 characters")
    return EntryFilter(
        since_us=since,
        until_us=until,
        caller=req.caller,
        person_id=req.person_id,
        department=req.department,
        outcome=req.outcome,
        purpose=req.purpose,
        kind=req.kind,
    )


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    """Serves one :class:`AuditLog` to auditors."""

    def __init__(self, log: AuditLog, authorize: Authorize) -> None:
        self.log = log
        self._authorize = authorize

    async def _check(self, context: grpc.aio.ServicerContext, method: str) -> None:
        result = self._authorize(context, method)
        if inspect.isawaitable(result):
            await result

    async def _latest_size(self) -> int:
        latest = await asyncio.to_thread(self.log.latest_checkpoint)
        if latest is None:
            raise failed_precondition("the log has no signed checkpoint yet; pass an explicit tree_size")
        return latest.size

    @grpc_errors
    async def QueryEntries(
        self, request: audit_pb2.QueryEntriesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[audit_pb2.QueryEntriesResponse]:
        await self._check(context, "QueryEntries")
        flt = _filter(request)
        if request.page_size > MAX_PAGE:
            raise invalid_argument(f"page_size {request.page_size} exceeds the maximum {MAX_PAGE}")
        limit = request.page_size or DEFAULT_PAGE
        rows = await asyncio.to_thread(self.log.query, flt, request.from_index, limit)
        for row in rows:
            yield audit_pb2.QueryEntriesResponse(entry=_entry_pb(row))

    @grpc_errors
    async def GetLatestCheckpoint(
        self, request: audit_pb2.GetLatestCheckpointRequest, context: grpc.aio.ServicerContext
    ) -> audit_pb2.GetLatestCheckpointResponse:
        await self._check(context, "GetLatestCheckpoint")
        latest = await asyncio.to_thread(self.log.latest_checkpoint)
        if latest is None:
            raise not_found("the log has no signed checkpoint yet")
        return audit_pb2.GetLatestCheckpointResponse(
            checkpoint=latest.note, tree_size=latest.size, root_hash=latest.root_hash
        )

    @grpc_errors
    async def GetInclusionProof(
        self, request: audit_pb2.GetInclusionProofRequest, context: grpc.aio.ServicerContext
    ) -> audit_pb2.GetInclusionProofResponse:
        await self._check(context, "GetInclusionProof")
        size = request.tree_size or await self._latest_size()
        if request.index >= size:
            raise invalid_argument(f"index {request.index} is not below tree_size {size}")
        current = await asyncio.to_thread(self.log.size)
        if size > current:
            raise invalid_argument(f"tree_size {size} exceeds the log's size {current}")
        entry = await asyncio.to_thread(self.log.entry, request.index)
        if entry is None:
            raise not_found(f"no entry {request.index}")
        proof = await asyncio.to_thread(self.log.inclusion_proof, request.index, size)
        return audit_pb2.GetInclusionProofResponse(
            index=request.index, tree_size=size, proof=proof, leaf_hash=entry.leaf_hash
        )

    @grpc_errors
    async def GetConsistencyProof(
        self, request: audit_pb2.GetConsistencyProofRequest, context: grpc.aio.ServicerContext
    ) -> audit_pb2.GetConsistencyProofResponse:
        await self._check(context, "GetConsistencyProof")
        if request.from_size == 0:
            raise invalid_argument("from_size must be at least 1 (a proof from the empty tree proves nothing)")
        if request.from_size > request.to_size:
            raise invalid_argument(f"from_size {request.from_size} is greater than to_size {request.to_size}")
        current = await asyncio.to_thread(self.log.size)
        if request.to_size > current:
            raise invalid_argument(f"to_size {request.to_size} exceeds the log's size {current}")
        try:
            proof = await asyncio.to_thread(self.log.consistency_proof, request.from_size, request.to_size)
        except ProofError as exc:
            raise invalid_argument(str(exc)) from exc
        return audit_pb2.GetConsistencyProofResponse(proof=proof)

    @grpc_errors
    async def ExportRange(
        self, request: audit_pb2.ExportRangeRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[audit_pb2.ExportRangeResponse]:
        await self._check(context, "ExportRange")
        try:
            start, end = await asyncio.to_thread(resolve_range, self.log, request.from_index, request.to_index)
        except StoreError as exc:
            raise invalid_argument(str(exc)) from exc
        lines = export_lines(self.log, start, end)
        while True:
            chunk = await asyncio.to_thread(_take_chunk, lines)
            if not chunk:
                break
            yield audit_pb2.ExportRangeResponse(chunk=chunk)


def _take_chunk(lines: Iterator[bytes]) -> bytes:
    """Pull whole lines until at least CHUNK bytes (or the end); one thread hop per chunk."""
    buf = bytearray()
    for line in lines:
        buf += line
        if len(buf) >= CHUNK:
            break
    return bytes(buf)


def add_to_server(server: grpc.aio.Server, log: AuditLog, authorize: Authorize) -> AuditServicer:
    """Register the AuditService on ``server`` (health/reflection are the caller's, via pingan.serving)."""
    servicer = AuditServicer(log, authorize)
    audit_pb2_grpc.add_AuditServiceServicer_to_server(servicer, server)
    return servicer
