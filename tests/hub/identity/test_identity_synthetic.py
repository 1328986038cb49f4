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

import base64
import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from identity_population import true_pairs

from adapters.config import parse_config
from adapters.linkage.idnumber import normalize_id_number
from adapters.linkage.names import normalize_name
from adapters.linkage.phone import normalize_phone
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


def _raw_identifiers(synth_dir: Path) -> set[str]:
    """Every name, ID number and phone stored in the department databases."""
    values: set[str] = set()
    for path in EXAMPLES:
        cfg = parse_config(path)
        engine = sa.create_engine(f"sqlite:///{synth_dir / (cfg.department + '.db')}")
        with engine.connect() as conn:
            for ds in cfg.datasets:
                cols = {field: col for field, col in ds.identity if field in ("name", "id_number", "phone")}
                if not cols or not ds.table:
                    continue
                rows = conn.execute(sa.text(f'SELECT {", ".join(cols.values())} FROM "{ds.table}"')).all()
                for row in rows:
                    values.update(str(v).strip() for v in row if v is not None and str(v).strip())
        engine.dispose()
    return values


def _needles(value: str) -> set[str]:
    forms = {value}
    if (idn := normalize_id_number(value)) is not None:
        forms.add(idn.value)
        forms.add(idn.value.upper())
    if (phone := normalize_phone(value)) is not None:
        forms.add(phone.value)
    if (name := normalize_name(value)) is not None and len(name) >= 2:
        forms.add(name)
    return {f for f in forms if len(f) >= 2}


def _encodings(text: str) -> tuple[set[str], set[bytes]]:
    raw = text.encode("utf-8")
    as_text = {text, raw.hex(), base64.b64encode(raw).decode()}
    as_bytes = {raw}
    for algo in ("md5", "sha1", "sha256"):
        digest = hashlib.new(algo, raw).digest()
        as_text.add(digest.hex())
        as_bytes.add(digest)
    return as_text, as_bytes


def _hub_contents(engine: sa.Engine) -> tuple[str, bytes]:
    """All cells of all tables: text cells joined, binary cells joined."""
    texts: list[str] = []
    blobs: list[bytes] = []
    inspector = sa.inspect(engine)
    meta = sa.MetaData()
    meta.reflect(engine)
    assert inspector.get_table_names()
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(sa.select(table)):
                for cell in row:
                    if isinstance(cell, (bytes, bytearray, memoryview)):
                        blobs.append(bytes(cell))
                    elif cell is not None:
                        texts.append(str(cell))
    return "\x00".join(texts), b"\x00".join(blobs)


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
    text, blob = _hub_contents(index.engine)
    raw = _raw_identifiers(synth_dir)
    assert len(raw) > PERSONS  # the scan has something to look for
    hits = []
    for value in raw:
        for needle in _needles(value):
            as_text, as_bytes = _encodings(needle)
            if any(t in text for t in as_text) or any(b in blob for b in as_bytes if len(b) >= 6):
                hits.append(f"<identifier of {len(needle)} characters>")
    assert hits == []


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
    text, _ = _hub_contents(index.engine)
    as_text, _ = _encodings("13800138000")
    assert any(t in text for t in as_text)
