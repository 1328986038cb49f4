"""Typed value conversion and the watermark encoding, as plain functions."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.errors import WatermarkError
from adapters.values import field_value, timestamp
from adapters.watermark import PHASE_NULL, PHASE_TS, Position, Watermark, decode, encode
from pingan.v1 import common_pb2

T = common_pb2


@pytest.mark.parametrize(
    ("raw", "value_type", "kind", "expected"),
    [
        ("1990-03-07", T.VALUE_TYPE_DATE, "date_value", T.Date(year=1990, month=3, day=7)),
        ("1990/3/7", T.VALUE_TYPE_DATE, "date_value", T.Date(year=1990, month=3, day=7)),
        ("19900307", T.VALUE_TYPE_DATE, "date_value", T.Date(year=1990, month=3, day=7)),
        ("1990年3月7日", T.VALUE_TYPE_DATE, "date_value", T.Date(year=1990, month=3, day=7)),
        (19900307, T.VALUE_TYPE_DATE, "date_value", T.Date(year=1990, month=3, day=7)),
        (dt.date(1990, 3, 7), T.VALUE_TYPE_DATE, "date_value", T.Date(year=1990, month=3, day=7)),
        (dt.datetime(1990, 3, 7, 12), T.VALUE_TYPE_DATE, "date_value", T.Date(year=1990, month=3, day=7)),
        ("1990-02-30", T.VALUE_TYPE_DATE, None, None),
        ("42", T.VALUE_TYPE_INTEGER, "integer_value", 42),
        (decimal.Decimal(7), T.VALUE_TYPE_INTEGER, "integer_value", 7),
        ("4.5", T.VALUE_TYPE_INTEGER, None, None),
        (1, T.VALUE_TYPE_BOOLEAN, "boolean_value", True),
        ("否", T.VALUE_TYPE_BOOLEAN, "boolean_value", False),
        ("maybe", T.VALUE_TYPE_BOOLEAN, None, None),
        ("红", T.VALUE_TYPE_STRING, "string_value", "红"),
        (12, T.VALUE_TYPE_TEXT, "string_value", "12"),
        ("ab", T.VALUE_TYPE_BYTES, "bytes_value", b"ab"),
        (None, T.VALUE_TYPE_STRING, None, None),
    ],
)
def test_field_value(raw: object, value_type: int, kind: str | None, expected: object) -> None:
    value = field_value(raw, value_type, where="d.f")
    assert value.WhichOneof("kind") == kind
    if kind is not None:
        assert getattr(value, kind) == expected


def test_timestamps_of_department_formats() -> None:
    assert timestamp("2026-01-02 03:04:05").ToDatetime() == dt.datetime(2026, 1, 2, 3, 4, 5)
    assert timestamp("2026/1/2").ToDatetime() == dt.datetime(2026, 1, 2)
    aware = dt.datetime(2026, 1, 2, 11, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert timestamp(aware).ToDatetime() == dt.datetime(2026, 1, 2, 3)
    assert timestamp("yesterday") is None


values = st.one_of(
    st.none(),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.text(max_size=20),
    st.datetimes(),
    st.dates(),
)


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
        st.tuples(st.sampled_from([PHASE_NULL, PHASE_TS]), values, values),
        max_size=4,
    )
)
def test_watermark_round_trips(positions: dict[str, tuple[str, object, object]]) -> None:
    mark = Watermark(tuple((name, Position(*pos)) for name, pos in positions.items()))
    assert dict(decode(encode(mark)).positions) == dict(mark.positions)


def test_empty_watermark_starts_everything() -> None:
    assert decode("").position("anything") is None


def test_foreign_watermark_is_refused() -> None:
    with pytest.raises(WatermarkError, match="does not start with 'w1.'"):
        decode("2026-01-01T00:00:00")
