"""Every example configuration serves a freshly generated synthetic department.

Generates a small set with ``pingan synth``, starts an adapter for each
``adapters/examples/*.toml`` on loopback, and calls Describe, StreamLinkage and
FetchRecords on it over gRPC.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import grpc
import pytest

from adapters.server import AdapterServer
from pingan.v1 import adapter_pb2, adapter_pb2_grpc

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "adapters" / "examples").glob("*.toml"))


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pingan.cli import main

    out = tmp_path_factory.mktemp("synth")
    assert main(["synth", "--persons", "300", "--seed", "3", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.skipif(not EXAMPLES, reason="no example configurations in adapters/examples yet")
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_config_serves_synthetic_data(
    example: Path, synthetic_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINGAN_DATA_DIR", str(synthetic_dir))
    monkeypatch.setenv("PINGAN_LINKAGE_SECRET", secrets.token_hex(32))
    # the state database lands next to the generated data (${PINGAN_DATA_DIR}), one per department
    server = AdapterServer.from_config(example)
    server.start()
    channel = grpc.insecure_channel(server.address)
    try:
        stub = adapter_pb2_grpc.DepartmentAdapterStub(channel)
        described = stub.Describe(adapter_pb2.DescribeRequest(), timeout=30)
        assert described.department == example.stem
        assert described.datasets
        first = next(iter(stub.StreamLinkage(adapter_pb2.StreamLinkageRequest(batch_size=200), timeout=60)))
        ids: dict[str, list[str]] = {}
        for record in first.records:
            ids.setdefault(record.dataset, []).append(record.local_record_id)
        fetched = 0
        for spec in described.datasets:
            if not spec.fields or spec.name not in ids:
                continue
            wanted = ids[spec.name][:5]
            response = stub.FetchRecords(
                adapter_pb2.FetchRecordsRequest(
                    request_id=f"example-{spec.name}",
                    purpose="test",
                    fetches=[
                        adapter_pb2.DatasetFetch(
                            dataset=spec.name, local_record_ids=wanted, fields=[f.name for f in spec.fields]
                        )
                    ],
                ),
                timeout=30,
            )
            assert [r.provenance.local_record_id for r in response.records] == wanted
            assert not response.missing
            for record in response.records:
                assert [f.name for f in record.fields] == [f.name for f in spec.fields]
                assert all(f.classification.grade for f in record.fields)
            fetched += len(response.records)
        assert fetched > 0
    finally:
        channel.close()
        server.stop(grace=None)
