"""Batches that fail validation are rejected whole, saying which, and the watermark is kept."""

from __future__ import annotations

import pytest
from identity_population import TEST_SECRET as SECRET

from adapters.linkage.encoder import LinkageEncoder, SchemeParams
from adapters.linkage.fields import IdentityFields
from hub.identity.errors import BatchRejected
from hub.identity.index import IdentityIndex
from pingan.v1 import linkage_pb2


def _record(encoder: LinkageEncoder, local_id: str, name: str = "张伟") -> linkage_pb2.LinkageRecord:
    return linkage_pb2.LinkageRecord(
        dataset="people",
        local_record_id=local_id,
        encoding=encoder.encode(IdentityFields(name=name, birth_date="1990-03-07", id_number="11010519491231002X")),
    )


@pytest.fixture
def index(database_url: str, encoder: LinkageEncoder) -> IdentityIndex:
    idx = IdentityIndex(database_url)
    idx.apply_batch("justice", [_record(encoder, "1")], "w1")
    return idx


def _rejected(index: IdentityIndex, batch: list[linkage_pb2.LinkageRecord]) -> str:
    before = index.watermark("justice")
    with pytest.raises(BatchRejected) as info:
        index.apply_batch("justice", batch, "w2")
    assert index.watermark("justice") == before == "w1"
    assert index.last_error("justice") == str(info.value)
    return str(info.value)


def test_other_scheme_version_is_rejected(index: IdentityIndex) -> None:
    # An adapter still on v1 (before name parts and address numbers) is told what to upgrade to.
    other = LinkageEncoder(SECRET, SchemeParams(version="pingan-link-v1"))
    msg = _rejected(index, [_record(other, "2")])
    assert "scheme version is 'pingan-link-v1', the index expects 'pingan-link-v2'" in msg


def test_other_bloom_parameters_are_rejected(index: IdentityIndex) -> None:
    assert "bloom_bits is 1024" in _rejected(index, [_record(LinkageEncoder(SECRET, SchemeParams(bloom_bits=1024)), "2")])
    assert "qgram is 3" in _rejected(index, [_record(LinkageEncoder(SECRET, SchemeParams(qgram=3)), "2")])
    params = SchemeParams(field_hashes=(("name", 20),))
    assert "field_hashes" in _rejected(index, [_record(LinkageEncoder(SECRET, params), "2")])


def test_other_secret_is_rejected(index: IdentityIndex) -> None:
    msg = _rejected(index, [_record(LinkageEncoder(b"another-secret-" * 3), "2")])
    assert "key_id" in msg and "another linkage secret" in msg


def test_malformed_bits_and_tokens_are_rejected(index: IdentityIndex, encoder: LinkageEncoder) -> None:
    rec = _record(encoder, "2")
    rec.encoding.bloom[0].bits = rec.encoding.bloom[0].bits[:10]
    assert "has 10 bytes, expected 64 (512 bits)" in _rejected(index, [_record(encoder, "3"), rec])
    rec = _record(encoder, "2")
    rec.encoding.exact[0].token = b"short"
    assert "has 5 bytes, expected 32" in _rejected(index, [rec])
    rec = _record(encoder, "2")
    rec.encoding.bloom.add(field="shoe_size", bits=bytes(64))
    assert "unknown Bloom field 'shoe_size'" in _rejected(index, [rec])


def test_missing_fields_are_rejected(index: IdentityIndex, encoder: LinkageEncoder) -> None:
    rec = _record(encoder, "2")
    rec.ClearField("local_record_id")
    assert "missing local_record_id" in _rejected(index, [rec])
    rec = _record(encoder, "2")
    rec.ClearField("encoding")
    assert "missing encoding" in _rejected(index, [rec])
    rec = _record(encoder, "2")
    rec.encoding.ClearField("scheme")
    assert "encoding has no scheme" in _rejected(index, [rec])
    empty = linkage_pb2.LinkageRecord(dataset="people", local_record_id="9", encoding=linkage_pb2.LinkageEncoding(
        scheme=encoder.scheme()))
    assert "neither exact tokens nor Bloom filters" in _rejected(index, [empty])
    assert "appears twice" in _rejected(index, [_record(encoder, "5"), _record(encoder, "5")])


def test_a_rejected_batch_changes_nothing(index: IdentityIndex, encoder: LinkageEncoder) -> None:
    bad = _record(encoder, "3")
    bad.encoding.sex = "X"
    _rejected(index, [_record(encoder, "2", "李四"), bad])
    index.resolve()
    assert len(index.persons()) == 1  # record 2 of the rejected batch was not stored
    index.apply_batch("justice", [_record(encoder, "2", "李四")], "w2")
    assert index.watermark("justice") == "w2" and index.last_error("justice") == ""
