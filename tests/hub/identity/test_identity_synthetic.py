"""End to end on the synthetic departments: real adapters stream encodings over gRPC, the
hub resolves them, and no raw identifier of the population lands in the hub database.

``pingan synth`` writes the departments; each example adapter configuration
(adapters/examples/*.toml) is served by a real ``AdapterServer`` on a loopback port;
``hub.identity.pull`` pulls over ``StreamLinkage``. The privacy scan then reads every
column of every table of the hub database and looks for every ID number, phone and
name of the population as text, in its normalised forms, and in common encodings
(UTF-8 bytes, hex, base64, unkeyed MD5/SHA-1/SHA-256).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from identity_population import true_pairs
from privacy_scan import database_contents, leaks, raw_identifiers

from adapters.config import parse_config
from adapters.server import AdapterServer
from adapters.synth.generate import generate
from hub.identity.index import IdentityIndex
from hub.identity.pull import pull
from pingan.v1 import adapter_pb2_grpc

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "adapters" / "examples").glob("*.toml"))
SECRET = "synthetic-e2e-linkage-secret-0123456789abcdef"
PERSONS = 300


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(PERSONS, 5, out)
    return out


@pytest.fixture
def adapters_running(synth_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, grpc.Channel]]:
    # Each test gets its own copy of the data dir so adapter state (watermarks) starts fresh.
    data = tmp_path / "data"
    data.mkdir()
    for f in synth_dir.iterdir():
        if f.suffix == ".db" and not f.name.endswith("-adapter.db"):
            (data / f.name).write_bytes(f.read_bytes())
    monkeypatch.setenv("PINGAN_DATA_DIR", str(data))
    monkeypatch.setenv("PINGAN_LINKAGE_SECRET", SECRET)
    servers, channels = [], {}
    try:
        for path in EXAMPLES:
            server = AdapterServer.from_config(path)
            server.start()
            servers.append(server)
            channels[parse_config(path).department] = grpc.insecure_channel(server.address)
        yield channels
    finally:
        for ch in channels.values():
            ch.close()
        for server in servers:
            server.stop(grace=None)


def test_pull_resolve_and_nothing_raw_in_the_hub_database(
    adapters_running: dict[str, grpc.Channel], synth_dir: Path, database_url: str
) -> None:
    index = IdentityIndex(database_url)
    for department, channel in adapters_running.items():
        result = pull(index, department, adapter_pb2_grpc.DepartmentAdapterStub(channel), batch_size=200)
        assert result.rejected == "", result.rejected
        assert result.watermark and index.watermark(department) == result.watermark
    summary = index.resolve()
    with open(synth_dir / "ground_truth.csv", encoding="utf-8") as fh:
        truth_rows = list(csv.DictReader(fh))
    assert summary.records == len(truth_rows)

    # Quality floor on the generator's ground truth (correctness, not timing).
    keys = [(r["department"], r["dataset"], r["local_record_id"]) for r in truth_rows]
    predicted = [index.person_of(*k) for k in keys]
    truth, got = true_pairs(keys, [r["person_id"] for r in truth_rows]), true_pairs(keys, predicted)  # type: ignore[arg-type]
    assert len(truth & got) / max(len(got), 1) >= 0.97
    assert len(truth & got) / len(truth) >= 0.9

    # Privacy scan.
    text, blob = database_contents(index.engine)
    raw = raw_identifiers(synth_dir)
    assert len(raw) > PERSONS  # the scan has something to look for
    assert leaks(raw, text, blob) == []


def test_pull_resumes_from_the_watermark(adapters_running: dict[str, grpc.Channel], database_url: str) -> None:
    index = IdentityIndex(database_url)
    stub = adapter_pb2_grpc.DepartmentAdapterStub(adapters_running["public_security"])
    first = pull(index, "public_security", stub, batch_size=100)
    assert first.records > 100 and first.batches >= 2
    again = pull(index, "public_security", stub, batch_size=100)
    assert again.records == 0 and again.watermark == first.watermark


def test_scan_would_see_a_leak(database_url: str) -> None:
    """The scanner itself finds a planted identifier (a test that can fail)."""
    index = IdentityIndex(database_url)
    with index.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO identity_settings (key, value) VALUES ('x', :v)"),
                     {"v": hashlib.sha256(b"13800138000").hexdigest()})
    text, blob = database_contents(index.engine)
    assert leaks({"13800138000"}, text, blob) != []
