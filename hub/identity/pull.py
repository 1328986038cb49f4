"""Pulling linkage encodings from a department adapter (``DepartmentAdapter.StreamLinkage``).

Resumes from the watermark the index stored for the department; each streamed
batch is validated and applied together with its watermark in one transaction,
so a crash or a rejected batch leaves the index at the last good batch and the
next pull resumes there. A rejected batch stops the pull (later batches build on
it) and is reported with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from hub.identity.errors import BatchRejected, IdentityError
from hub.identity.index import IdentityIndex
from pingan.v1 import adapter_pb2, adapter_pb2_grpc


@dataclass(frozen=True, slots=True)
class PullResult:
    """What one pull did."""

    department: str
    batches: int
    records: int
    watermark: str
    rejected: str = ""  # the rejection message, empty when every batch was applied


def pull(
    index: IdentityIndex,
    department: str,
    stub: adapter_pb2_grpc.DepartmentAdapterStub,
    *,
    batch_size: int = 0,
    timeout: float | None = 300.0,
) -> PullResult:
    """Stream every record changed after the stored watermark into ``index``."""
    start = index.watermark(department)
    batches = records = 0
    watermark = start
    request = adapter_pb2.StreamLinkageRequest(after_watermark=start, batch_size=batch_size)
    try:
        for response in stub.StreamLinkage(request, timeout=timeout):
            try:
                index.apply_batch(department, list(response.records), response.watermark)
            except BatchRejected as exc:
                return PullResult(department, batches, records, watermark, rejected=str(exc))
            batches += 1
            records += len(response.records)
            watermark = response.watermark
    except grpc.RpcError as exc:
        code = exc.code() if hasattr(exc, "code") else None
        raise IdentityError(
            f"StreamLinkage from department {department!r} failed after {batches} batches "
            f"({code.name if code else 'unknown status'}): {exc.details() if hasattr(exc, 'details') else exc}"
        ) from None
    return PullResult(department, batches, records, watermark)
