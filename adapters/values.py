"""Typed values: department column values -> ``pingan.v1.FieldValue`` and timestamps.

Departments store dates in several formats (``1990-03-07``, ``1990/3/7``,
``19900307``, ``1990年3月7日``); they are parsed with the linkage package's
:func:`~adapters.linkage.normalize.parse_date` so fetch and linkage agree. A
value that does not fit its declared type is sent as absent (unset) rather than
guessed, and the raw value is never logged.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging

from google.protobuf.timestamp_pb2 import Timestamp

from adapters.linkage.normalize import parse_date
from pingan.v1 import common_pb2

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "t", "yes", "y", "是", "有"}
_FALSE = {"0", "false", "f", "no", "n", "否", "无"}


def to_date(raw: object) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)  # 19900307 stored as a number
    if isinstance(raw, str):
        return parse_date(raw)
    return None


def to_int(raw: object) -> int | None:
    if isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, decimal.Decimal) and raw == raw.to_integral_value():
        return int(raw)
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            return None
    return None


def to_bool(raw: object) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return raw != 0
    if isinstance(raw, str):
        folded = raw.strip().lower()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    return None


def to_text(raw: object) -> str:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    if isinstance(raw, (dt.datetime, dt.date)):
        return raw.isoformat()
    return str(raw)


def field_value(raw: object, value_type: int, *, where: str) -> common_pb2.FieldValue:
    """Convert ``raw`` to a FieldValue of ``value_type``; unset when NULL or not convertible.

    ``where`` ("dataset.field") is used in the warning for unconvertible values.
    """
    value = common_pb2.FieldValue()
    if raw is None:
        return value
    if value_type in (common_pb2.VALUE_TYPE_STRING, common_pb2.VALUE_TYPE_TEXT):
        value.string_value = to_text(raw)
        return value
    if value_type == common_pb2.VALUE_TYPE_INTEGER:
        number = to_int(raw)
        if number is not None and -(2**63) <= number < 2**63:
            value.integer_value = number
            return value
    elif value_type == common_pb2.VALUE_TYPE_DATE:
        date = to_date(raw)
        if date is not None:
            value.date_value.CopyFrom(common_pb2.Date(year=date.year, month=date.month, day=date.day))
            return value
    elif value_type == common_pb2.VALUE_TYPE_BOOLEAN:
        flag = to_bool(raw)
        if flag is not None:
            value.boolean_value = flag
            return value
    elif value_type == common_pb2.VALUE_TYPE_BYTES:
        value.bytes_value = raw if isinstance(raw, bytes) else to_text(raw).encode("utf-8")
        return value
    log.warning("value of %s does not fit its declared type; sent as absent", where)
    return value


def to_datetime(raw: object) -> dt.datetime | None:
    """A record's last-change time; naive values are taken as UTC."""
    if isinstance(raw, dt.datetime):
        moment = raw
    elif isinstance(raw, dt.date):
        moment = dt.datetime(raw.year, raw.month, raw.day)
    elif isinstance(raw, str):
        text = raw.strip()
        try:
            moment = dt.datetime.fromisoformat(text.replace("/", "-"))
        except ValueError:
            date = parse_date(text)
            if date is None:
                return None
            moment = dt.datetime(date.year, date.month, date.day)
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def timestamp(raw: object) -> Timestamp | None:
    moment = to_datetime(raw)
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp
