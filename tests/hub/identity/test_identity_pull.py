"""The pull client against an adapter that streams a bad batch: rejected, watermark kept.

The misbehaving adapter is a real gRPC server on a loopback port serving a
hand-written ``DepartmentAdapter`` (the only way to make an adapter send garbage).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from adapters.linkage.encoder import LinkageEncoder
from adapters.linkage.fields import IdentityFields
from hub.identity.errors import IdentityError
from hub.identity.index import IdentityIndex
from hub.identity.pull import pull
from pingan.v1 import adapter_pb2, adapter_pb2_grpc, linkage_pb2


class ScriptedAdapter(adapter_pb2_grpc.DepartmentAdapterServicer):
    """Streams the given batches, honouring after_watermark by position."""

    def __init__(self, batches: list[adapter_pb2.StreamLinkageResponse]) -> None:
        self.batches = batches
        self.requests: list[str] = []

    def StreamLinkage(self, request, context):  # type: ignore[no-untyped-def]
        self.requests.append(request.after_watermark)
        start = 0
        for n, b in enumerate(self.batches):
            if b.watermark == request.after_watermark:
                start = n + 1
        yield from self.batches[start:]


@pytest.fixture
def serve() -> Iterator:  # type: ignore[type-arg]
    servers = []

    def start(servicer: ScriptedAdapter) -> adapter_pb2_grpc.DepartmentAdapterStub:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        adapter_pb2_grpc.add_DepartmentAdapterServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return adapter_pb2_grpc.DepartmentAdapterStub(grpc.insecure_channel(f"127.0.0.1:{port}"))

    yield start
    for s in servers:
        s.stop(None)


def _batch(encoder: LinkageEncoder, watermark: str, *ids: str) -> adapter_pb2.StreamLinkageResponse:
    return adapter_pb2.StreamLinkageResponse(
        watermark=watermark,
        records=[
            linkage_pb2.LinkageRecord(
                dataset="people", local_record_id=i, encoding=encoder.encode(IdentityFields(name=f"张{i}", phone=f"1380000{int(i):04d}"))
            )
            for i in ids
        ],
    )


def test_bad_batch_stops_the_pull_and_keeps_the_watermark(
    serve, database_url: str, encoder: LinkageEncoder  # type: ignore[no-untyped-def]
) -> None:
    good1, good2 = _batch(encoder, "w1", "1", "2"), _batch(encoder, "w3", "5")
    bad = _batch(encoder, "w2", "3", "4")
    bad.records[1].encoding.bloom[0].bits = b"\x00" * 3
    adapter = ScriptedAdapter([good1, bad, good2])
    stub = serve(adapter)
    index = IdentityIndex(database_url)
    result = pull(index, "health", stub)
    assert (result.batches, result.records, result.watermark) == (1, 2, "w1")
    assert "record people/4" in result.rejected and "has 3 bytes, expected 64" in result.rejected
    assert index.watermark("health") == "w1" and index.last_error("health") == result.rejected
    # The adapter fixes its data; the next pull resumes after w1.
    adapter.batches[1] = _batch(encoder, "w2", "3", "4")
    result = pull(index, "health", stub)
    assert adapter.requests == ["", "w1"]
    assert (result.batches, result.records, result.watermark, result.rejected) == (2, 3, "w3", "")
    index.resolve()
    assert len(index.persons()) == 5


def test_unreachable_adapter_is_an_identity_error(database_url: str) -> None:
    channel = grpc.insecure_channel("127.0.0.1:1")
    with pytest.raises(IdentityError, match="StreamLinkage from department 'health' failed after 0 batches"):
        pull(IdentityIndex(database_url), "health", adapter_pb2_grpc.DepartmentAdapterStub(channel), timeout=2)
