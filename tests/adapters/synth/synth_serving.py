"""Helpers of the synth serving tests: run an example adapter and check it against the ground truth."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc

from adapters.server import AdapterServer
from adapters.synth.examples import EXAMPLES_DIR
from pingan.v1 import adapter_pb2, adapter_pb2_grpc

CALLER = [("x-pingan-caller", "synth-test")]
SECRET = "synth-test-secret-" + "0" * 32


def truth_ids(data_dir: Path, department: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    with (data_dir / "ground_truth.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["department"] == department:
                out[row["dataset"]].append(row["local_record_id"])
    return out


def config_for(department: str, tmp_dir: Path, database_url: str, state_url: str) -> Path:
    """The example configuration with its [database] and [state] URLs replaced."""
    text = (EXAMPLES_DIR / f"{department}.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^url = "sqlite:///\$\{PINGAN_DATA_DIR\}/[a-z_]+-adapter\.db"$',
                  f'url = "{state_url}"', text)
    text = re.sub(r'(?m)^url = "sqlite:///\$\{PINGAN_DATA_DIR\}/[a-z_]+\.db"$', f'url = "{database_url}"', text)
    path = tmp_dir / f"{department}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def serving(config: Path) -> Iterator[adapter_pb2_grpc.DepartmentAdapterStub]:
    server = AdapterServer.from_config(config)
    server.start()
    channel = grpc.insecure_channel(server.address)
    try:
        yield adapter_pb2_grpc.DepartmentAdapterStub(channel)
    finally:
        channel.close()
        server.stop(grace=None)


def check_against_truth(stub: adapter_pb2_grpc.DepartmentAdapterStub, department: str, data_dir: Path) -> None:
    """Describe, a full StreamLinkage and a FetchRecords per dataset agree with the ground truth."""
    expected = truth_ids(data_dir, department)
    described = stub.Describe(adapter_pb2.DescribeRequest(), timeout=30)
    assert described.department == department
    assert sorted(d.name for d in described.datasets) == sorted(expected)

    streamed: dict[str, set[str]] = defaultdict(set)
    for response in stub.StreamLinkage(adapter_pb2.StreamLinkageRequest(batch_size=2000), metadata=CALLER,
                                       timeout=120):
        for record in response.records:
            streamed[record.dataset].add(record.local_record_id)
    assert {k: sorted(v) for k, v in streamed.items()} == {k: sorted(v) for k, v in expected.items()}

    for spec in described.datasets:
        ids = expected[spec.name][:5]
        fields = [f.name for f in spec.fields][:20]
        response = stub.FetchRecords(adapter_pb2.FetchRecordsRequest(
            request_id=f"synth-{department}-{spec.name}", purpose="visit",
            fetches=[adapter_pb2.DatasetFetch(dataset=spec.name, local_record_ids=ids, fields=fields)],
        ), metadata=CALLER, timeout=30)
        assert sorted(r.provenance.local_record_id for r in response.records) == sorted(ids)
        assert not response.missing
        for record in response.records:
            assert {f.name for f in record.fields} <= set(fields)
            assert any(f.value.WhichOneof("kind") for f in record.fields)
