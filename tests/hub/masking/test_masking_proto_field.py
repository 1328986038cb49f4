"""mask_field: the protobuf helper the profile service calls."""

from __future__ import annotations

import datetime as dt

from hub.masking import MaskingContext
from hub.masking.proto_field import mask_field, value_from_proto
from pingan.v1 import common_pb2

CTX = MaskingContext(pseudonym_key=b"k" * 32, reference_date=dt.date(2026, 1, 1))


def _field(**value: object) -> common_pb2.Field:
    return common_pb2.Field(name="f", value=common_pb2.FieldValue(**value))


def test_masks_string_in_place() -> None:
    f = _field(string_value="13812345678")
    result = mask_field(f, {"operator": "phone"}, context=CTX)
    assert f.value.string_value == "138****5678" and f.masking_operator == "phone" and not f.withheld
    assert result.value == "138****5678"


def test_date_becomes_band_or_year() -> None:
    f = _field(date_value=common_pb2.Date(year=1990, month=3, day=4))
    mask_field(f, {"operator": "age_band"}, context=CTX)
    assert f.value.WhichOneof("kind") == "string_value" and f.value.string_value == "30-39"
    g = _field(date_value=common_pb2.Date(year=1990, month=3, day=4))
    mask_field(g, {"operator": "year_only"}, context=CTX)
    assert g.value.integer_value == 1990


def test_null_leaves_value_unset_but_not_withheld() -> None:
    f = _field(string_value="x")
    mask_field(f, {"operator": "null"}, context=CTX)
    assert not f.HasField("value") or f.value.WhichOneof("kind") is None
    assert f.masking_operator == "null" and not f.withheld


def test_unknown_operator_withholds_and_clears() -> None:
    f = _field(string_value="440106198001011234")
    result = mask_field(f, {"operator": "reveal"}, context=CTX)
    assert f.withheld and not f.HasField("value") and result.withheld
    assert f.masking_operator == "reveal"
    assert "440106198001011234" not in f.SerializeToString().decode("latin-1")


def test_impossible_stored_date_withholds() -> None:
    f = _field(date_value=common_pb2.Date(year=2023, month=2, day=30))
    assert mask_field(f, {"operator": "year_only"}, context=CTX).withheld and f.withheld


def test_free_text_field() -> None:
    f = _field(string_value="走访欧阳建国，手机13812345678。")
    mask_field(f, {"operator": "pii_free_text"}, context=MaskingContext(known_names=("欧阳建国",)))
    assert f.value.string_value == "走访<PERSON>，手机<PHONE>。" and f.masking_operator == "pii_free_text"


def test_round_trip_of_every_kind() -> None:
    for value in ("s", 5, True, b"\x01", dt.date(2020, 2, 29)):
        f = _field()
        mask_field(f, {"operator": "keyed_pseudonym"}, context=CTX)  # absent stays absent
        assert f.value.WhichOneof("kind") is None
        assert value_from_proto(_proto(value)) == value


def _proto(value: object) -> common_pb2.FieldValue:
    from hub.masking.proto_field import value_to_proto

    out = common_pb2.FieldValue()
    value_to_proto(value, out)  # type: ignore[arg-type]
    return out
