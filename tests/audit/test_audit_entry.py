"""Canonical entries and sealed fields."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.entry import (
    AccessEntry,
    Caller,
    FieldDecision,
    IdentityMergeEntry,
    IdentitySplitEntry,
    LoggedEntry,
    Outcome,
    PolicyChangeEntry,
    PolicyVersion,
    Section,
    canonical_json,
    from_canonical,
    parse_rfc3339,
    rfc3339,
    to_canonical,
)
from audit.errors import EntryError, KeyFileError, SealError
from audit.sealed import Keyring, Sealed


def access(keyring: Keyring | None = None, **over: object) -> AccessEntry:
    kr = keyring or Keyring.generate()
    base = AccessEntry(
        request_id="req-1",
        time="2026-11-22T08:00:00.000000Z",
        caller=Caller("grid-017", "street_office", ("grid_worker",), "jti-9", "10.1.2.3", "TH/S03/C07"),
        purpose="home_visit",
        person_id="P-000123",
        sections=(
            Section("health", Outcome.MASKED, ("followups",), (FieldDecision("diagnosis", "redact"),), "rego:l4"),
            Section("justice", Outcome.DENIED, ("corrections",), (), "casbin:scope"),
        ),
        justification=kr.seal("回访独居老人", "justification"),
        query=kr.seal('{"id_number_hmac":"ab12"}', "query"),
        query_kind="id_number",
        policy_versions=(PolicyVersion("casbin", "a" * 64), PolicyVersion("rego", "b" * 64)),
        latency_us=41234,
        flags=("break_glass_review",),
    )
    return dataclasses.replace(base, **over)  # type: ignore[arg-type]


def test_canonical_bytes_are_sorted_compact_utf8_and_round_trip() -> None:
    e = access()
    data = to_canonical(e)
    assert data == to_canonical(from_canonical(data))
    assert from_canonical(data) == e
    text = data.decode("utf-8")
    assert " " not in text.replace("home_visit", "")  # no insignificant whitespace
    keys = list(json.loads(text))
    assert keys == sorted(keys)


def test_non_ascii_is_utf8_not_escaped() -> None:
    e = access(purpose="走访")
    assert "走访".encode() in to_canonical(e)


def test_same_entry_same_bytes_regardless_of_construction_order() -> None:
    e1 = access()
    e2 = AccessEntry(**{f.name: getattr(e1, f.name) for f in reversed(dataclasses.fields(e1))})
    assert to_canonical(e1) == to_canonical(e2)


@pytest.mark.parametrize(
    "entry",
    [
        PolicyChangeEntry("req-2", "2026-11-22T08:00:00.000000Z", "masking", "owner-a", "owner-b", "1" * 64, "2" * 64),
        IdentityMergeEntry("req-3", "2026-11-22T08:00:00.000000Z", "linker", ("P-1", "P-2"), "P-1", "hmac_id_match", 998),
        IdentitySplitEntry("req-4", "2026-11-22T08:00:00.000000Z", "steward-1", "P-1", ("P-1", "P-9"), "twins"),
    ],
)
def test_other_kinds_round_trip(entry: object) -> None:
    assert from_canonical(to_canonical(entry)) == entry  # type: ignore[arg-type]


def test_floats_are_refused() -> None:
    with pytest.raises(EntryError, match="float"):
        to_canonical(access(latency_us=1.5))  # type: ignore[arg-type]


def test_a_refused_value_is_named_by_its_path() -> None:
    """Appends encode without building paths; a value they cannot take is encoded again to name it."""
    with pytest.raises(EntryError, match=r"access\.latency_us is a float"):
        to_canonical(access(latency_us=1.5))  # type: ignore[arg-type]
    with pytest.raises(EntryError, match=r"access\.caller\.roles is outside"):
        to_canonical(access(caller=Caller("u", "d", (2**60,), "", "")))  # type: ignore[arg-type]
    with pytest.raises(EntryError, match="float"):
        from_canonical(b'{"kind":"access","latency_us":1.5}')


def test_non_canonical_or_unknown_input_is_refused() -> None:
    data = to_canonical(access())
    spaced = json.dumps(json.loads(data), indent=1, ensure_ascii=False).encode()
    with pytest.raises(EntryError, match="canonical"):
        from_canonical(spaced)
    with pytest.raises(EntryError, match="unknown entry kind"):
        from_canonical(b'{"kind":"gossip"}')
    obj = json.loads(data)
    obj["surprise"] = 1
    with pytest.raises(EntryError, match="unknown fields"):
        from_canonical(json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    obj = json.loads(data)
    obj["sections"][0]["outcome"] = "leaked"
    with pytest.raises(EntryError, match="outcome"):
        from_canonical(json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())


def test_logged_entry_envelope_carries_index_and_time() -> None:
    le = LoggedEntry(42, "2026-11-22T08:00:01.000000Z", access())
    data = le.to_canonical()
    assert json.loads(data)["index"] == 42
    assert LoggedEntry.from_canonical(data) == le
    with pytest.raises(EntryError, match="index"):
        LoggedEntry.from_canonical(to_canonical(access()))


def test_sealed_fields_open_only_with_the_key_and_the_right_field() -> None:
    kr = Keyring.generate("k1")
    e = access(kr)
    assert e.justification is not None
    assert "回访".encode() not in to_canonical(e)
    back = from_canonical(to_canonical(e))
    assert isinstance(back, AccessEntry) and back.justification is not None
    assert kr.open(back.justification, "justification") == "回访独居老人"
    with pytest.raises(SealError, match="does not open"):
        kr.open(back.justification, "query")  # moved to another field
    with pytest.raises(SealError, match="no key"):
        Keyring.generate("k2").open(back.justification, "justification")
    flipped = Sealed(back.justification.key_id, back.justification.blob[:-1] + bytes([back.justification.blob[-1] ^ 1]))
    with pytest.raises(SealError, match="does not open"):
        kr.open(flipped, "justification")


def test_keys_rotate_old_ciphertexts_still_open(tmp_path: Path) -> None:
    old = Keyring.generate("k1")
    sealed_old = old.seal("old reason", "justification")
    data = json.loads(old.to_json())
    data["keys"]["k2"] = json.loads(Keyring.generate("k2").to_json())["keys"]["k2"]
    data["active"] = "k2"
    path = tmp_path / "sealing.json"
    path.write_text(json.dumps(data))
    rotated = Keyring.load(path)
    new = rotated.seal("new reason", "justification")
    assert new.key_id == "k2"
    assert rotated.open(sealed_old, "justification") == "old reason"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a JSON keyring"),
        ('{"active": "k1"}', "'keys'"),
        ('{"active": 3, "keys": {}}', "'active'"),
        ('{"active": "k1", "keys": {"k1": "!!"}}', "not base64"),
        ('{"active": "k9", "keys": {"k1": "AAAA"}}', "k9"),
    ],
)
def test_bad_keyring_files_name_the_file_and_key(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "sealing.json"
    path.write_text(content)
    with pytest.raises(KeyFileError, match=message) as info:
        Keyring.load(path)
    assert str(path) in str(info.value)


_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
)
_json = st.recursive(
    _json_leaf,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=120, deadline=None)
@given(_json)
def test_canonical_json_equals_the_rfc8785_reference(value: object) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_integers_beyond_ieee_double_precision_are_refused() -> None:
    with pytest.raises(EntryError, match="2\\*\\*53"):
        to_canonical(access(latency_us=2**60))


def test_entries_need_a_request_id_and_an_rfc3339_time() -> None:
    with pytest.raises(EntryError, match="request_id"):
        access(request_id="")
    with pytest.raises(EntryError, match="RFC 3339"):
        access(time="yesterday")
    with pytest.raises(EntryError, match="RFC 3339"):
        from_canonical(to_canonical(access()).replace(b"2026-11-22T08:00:00.000000Z", b"22/11/2026 08:00:00"))


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC),
        dt.datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),  # four-digit year (RFC 3339 section 5.6)
        dt.datetime(2026, 11, 22, 16, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    ],
)
def test_rfc3339_spells_every_instant_one_parseable_way(moment: dt.datetime) -> None:
    text = rfc3339(moment)
    assert text.endswith("Z") and len(text) == len("2026-11-22T08:00:00.000000Z")
    assert parse_rfc3339(text) == moment


@pytest.mark.parametrize(
    "leak",
    [
        {"person_id": "11010519491231002X"},  # GB 11643 18-digit
        {"person_id": "110105491231002"},  # legacy 15-digit
        {"purpose": "call 13812345678"},  # mobile number
        {"caller": Caller("u", "d", (), "", "13812345678")},
    ],
)
def test_raw_identifiers_in_plain_fields_are_refused_without_echoing_them(leak: dict[str, object]) -> None:
    with pytest.raises(EntryError, match="ID number") as info:
        LoggedEntry(0, "2026-11-22T08:00:00.000000Z", access(**leak)).to_canonical()
    assert "13812345678" not in str(info.value) and "1231002" not in str(info.value)


def test_hashes_ids_and_times_are_not_mistaken_for_identifiers() -> None:
    e = access(person_id="P-000123", policy_versions=(PolicyVersion("rego", "1234567890" * 6 + "abcd"),))
    LoggedEntry(12345678901, "2026-11-22T08:00:00.000000Z", e).to_canonical()


_PIECES = st.sampled_from(
    [b"0", b"1", b"3", b"9", b"X", b"x", b"a", b"Z", b" ", b'"', b",", b"-", b":", b"_", b".", "中".encode(), b"\xff"]
)


@given(
    st.lists(
        st.one_of(
            _PIECES,
            st.integers(9, 19).flatmap(lambda n: st.binary(min_size=n, max_size=n).map(lambda b: bytes(48 + x % 10 for x in b))),
            st.binary(min_size=9, max_size=9).map(lambda b: b"1" + bytes([51 + b[0] % 7]) + bytes(48 + x % 10 for x in b)),
        ),
        max_size=8,
    ).map(b"".join)
)
@settings(max_examples=3000, deadline=None)
def test_the_fast_identifier_check_is_the_pattern(data: bytes) -> None:
    """``_holds_raw_identifier`` (translate and find) answers exactly what the documented
    pattern answers, on words of digits next to letters, separators and UTF-8 text."""
    from audit.entry import _RAW_IDENTIFIER, _holds_raw_identifier

    assert _holds_raw_identifier(data) == (_RAW_IDENTIFIER.search(data) is not None)
