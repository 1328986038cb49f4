"""Keyed encodings: same value same token, different secret different token, Bloom similarity."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.linkage.encoder import DEFAULT, LinkageEncoder, SchemeParams
from adapters.linkage.errors import LinkageError
from adapters.linkage.fields import IdentityFields
from adapters.linkage.secret import MIN_SECRET_BYTES, load_secret
from pingan.v1 import linkage_pb2

SECRET_A = b"a" * 32
SECRET_B = b"b" * 32


def _tokens(enc: linkage_pb2.LinkageEncoding) -> dict[str, bytes]:
    return {t.kind: t.token for t in enc.exact}


def _blooms(enc: linkage_pb2.LinkageEncoding) -> dict[str, bytes]:
    return {b.field: b.bits for b in enc.bloom}


def _dice(a: bytes, b: bytes) -> float:
    x, y = int.from_bytes(a, "big"), int.from_bytes(b, "big")
    return 2 * (x & y).bit_count() / (x.bit_count() + y.bit_count())


def test_same_value_in_different_spellings_gives_the_same_tokens() -> None:
    enc = LinkageEncoder(SECRET_A)
    a = enc.encode(IdentityFields(name="張偉", id_number="110105491231002", phone="+86 138 0013 8000"))
    b = enc.encode(IdentityFields(name="张 伟", id_number="11010519491231002X", phone="13800138000"))
    assert _tokens(a) == _tokens(b)
    assert _blooms(a)["name"] == _blooms(b)["name"]


def test_different_secret_gives_different_tokens_and_filters() -> None:
    fields = IdentityFields(name="张伟", id_number="11010519491231002X", birth_date="1949-12-31")
    a, b = LinkageEncoder(SECRET_A).encode(fields), LinkageEncoder(SECRET_B).encode(fields)
    assert set(_tokens(a).values()).isdisjoint(_tokens(b).values())
    assert _blooms(a)["name"] != _blooms(b)["name"]
    assert a.scheme.key_id != b.scheme.key_id


def test_suspect_id_gets_no_exact_token_but_a_close_filter() -> None:
    enc = LinkageEncoder(SECRET_A)
    good = enc.encode(IdentityFields(id_number="11010519491231002X"))
    typo = enc.encode(IdentityFields(id_number="11010519491231003X"))
    assert "id_number" in _tokens(good) and "id_number" not in _tokens(typo)
    assert _dice(_blooms(good)["id_number"], _blooms(typo)["id_number"]) > 0.8


def test_bloom_similarity_tracks_string_similarity() -> None:
    enc = LinkageEncoder(SECRET_A)
    base = _blooms(enc.encode(IdentityFields(residence_address="西湖区文三路12号3幢501室")))["residence_address"]
    near = _blooms(enc.encode(IdentityFields(residence_address="西湖区文三路12号3幢502室")))["residence_address"]
    far = _blooms(enc.encode(IdentityFields(residence_address="拱墅区莫干山路88号")))["residence_address"]
    assert _dice(base, near) > 0.8
    assert _dice(base, far) < 0.5


def test_fields_use_separate_keys() -> None:
    enc = LinkageEncoder(SECRET_A)
    e = enc.encode(IdentityFields(name="19900307", birth_date="1990-03-07"))
    assert _blooms(e)["name"] != _blooms(e)["birth_date"]


def test_scheme_describes_the_parameters() -> None:
    s = LinkageEncoder(SECRET_A).scheme()
    assert (s.version, s.bloom_bits, s.bloom_hashes, s.qgram) == ("pingan-link-v2", 512, 10, 2)
    assert {f.field: f.hashes for f in s.field_hashes}["residence_address"] == 4
    assert SECRET_A.hex() not in str(s) and len(s.key_id) == 16


def test_bits_length_and_derived_values() -> None:
    e = LinkageEncoder(SECRET_A).encode(
        IdentityFields(id_number="11010519491231002X", registered_address="河南省郑州市金水区", residence_address="杭州市西湖区")
    )
    assert all(len(b.bits) == DEFAULT.bloom_bits // 8 for b in e.bloom)
    assert (e.sex, e.birth_year, e.residence_mismatch) == ("F", 1949, True)


def test_encode_query_matches_record_encoding() -> None:
    enc = LinkageEncoder(SECRET_A)
    q = enc.encode_query(linkage_pb2.IdentityQuery(name="張偉", birth_date="1990年3月7日"))
    r = enc.encode(IdentityFields(name="张伟", birth_date="19900307", phone="13800138000"))
    assert _tokens(q)["name_birth"] == _tokens(r)["name_birth"]


def test_bad_params_are_rejected() -> None:
    with pytest.raises(LinkageError, match="bloom_bits"):
        SchemeParams(bloom_bits=100)
    with pytest.raises(LinkageError, match="field_hashes"):
        SchemeParams(field_hashes=(("shoe_size", 3),))


def test_secret_from_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "linkage.key"
    path.write_text("k" * 40 + "\n")
    assert load_secret(secret_file=str(path), secret_env=None) == b"k" * 40
    monkeypatch.setenv("PINGAN_TEST_LINKAGE_SECRET", "e" * 33)
    assert load_secret(secret_file=None, secret_env="PINGAN_TEST_LINKAGE_SECRET") == b"e" * 33


def test_secret_errors_name_the_source_not_the_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    short = tmp_path / "short.key"
    short.write_text("tooshort")
    with pytest.raises(LinkageError, match=f"short.key holds 8 bytes; at least {MIN_SECRET_BYTES}") as info:
        load_secret(secret_file=str(short), secret_env=None)
    assert "tooshort" not in str(info.value)
    with pytest.raises(LinkageError, match="missing.key does not exist"):
        load_secret(secret_file=str(tmp_path / "missing.key"), secret_env=None)
    monkeypatch.delenv("PINGAN_NO_SUCH_SECRET", raising=False)
    with pytest.raises(LinkageError, match="PINGAN_NO_SUCH_SECRET is not set"):
        load_secret(secret_file=None, secret_env="PINGAN_NO_SUCH_SECRET")
    with pytest.raises(LinkageError, match="no linkage secret configured"):
        load_secret(secret_file=None, secret_env=None)
