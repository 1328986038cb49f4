"""The StreamLinkage watermark: an opaque, resumable position per dataset.

Records are streamed in ``(updated_at, id)`` order per dataset, datasets in
configuration order; rows whose ``updated_at`` is NULL come first, ordered by
id. The watermark the client passes back carries, for every dataset already
reached, the last ``(phase, updated_at, id)`` served, so a restarted adapter
resumes exactly where the client left off (the position is the client's, not
the server's). Encoded as ``w1.`` + base64url (RFC 4648 section 5) of compact
JSON with type-tagged values, so datetimes and integer ids round-trip exactly.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.errors import WatermarkError

PREFIX = "w1."
MAX_LENGTH = 64 * 1024
PHASE_NULL = "null"  # rows whose updated_at is NULL, by id
PHASE_TS = "ts"  # rows with an updated_at, by (updated_at, id)


@dataclass(frozen=True, slots=True)
class Position:
    """The last row served of one dataset."""

    phase: str
    updated_at: Any
    last_id: Any


@dataclass(frozen=True, slots=True)
class Watermark:
    """Positions per dataset name; a dataset not present starts from the beginning."""

    positions: tuple[tuple[str, Position], ...] = ()

    def position(self, dataset: str) -> Position | None:
        return dict(self.positions).get(dataset)

    def advanced(self, dataset: str, position: Position) -> Watermark:
        merged = dict(self.positions)
        merged[dataset] = position
        return Watermark(tuple(merged.items()))


def _tag(value: Any) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, dt.datetime):
        return ["dt", value.isoformat()]
    if isinstance(value, dt.date):
        return ["d", value.isoformat()]
    if isinstance(value, decimal.Decimal):
        return ["dec", str(value)]
    if isinstance(value, float):
        return ["f", value]
    if isinstance(value, bytes):
        return ["s", value.decode("utf-8", "replace")]
    return ["s", str(value)]


def _untag(tagged: Any) -> Any:
    if tagged is None:
        return None
    if not (isinstance(tagged, list) and len(tagged) == 2 and isinstance(tagged[0], str)):
        raise WatermarkError("a position value is not a [type, value] pair")
    kind, value = tagged
    try:
        if kind == "i" and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind == "b" and isinstance(value, bool):
            return value
        if kind == "s" and isinstance(value, str):
            return value
        if kind == "f" and isinstance(value, (int, float)):
            return float(value)
        if kind == "dt" and isinstance(value, str):
            return dt.datetime.fromisoformat(value)
        if kind == "d" and isinstance(value, str):
            return dt.date.fromisoformat(value)
        if kind == "dec" and isinstance(value, str):
            return decimal.Decimal(value)
    except (ValueError, decimal.InvalidOperation):
        raise WatermarkError(f"a position value of type {kind!r} does not parse") from None
    raise WatermarkError(f"a position value has unknown type {kind!r} or a value of the wrong type")


def encode(watermark: Watermark) -> str:
    body = {
        "p": {name: [pos.phase, _tag(pos.updated_at), _tag(pos.last_id)] for name, pos in watermark.positions}
    }
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode("utf-8")
    return PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(text: str) -> Watermark:
    """Parse a watermark issued by :func:`encode`; empty means the start of every dataset."""
    if not text:
        return Watermark()
    if len(text) > MAX_LENGTH:
        raise WatermarkError(f"watermark is {len(text)} characters long; at most {MAX_LENGTH} are accepted")
    if not text.startswith(PREFIX):
        raise WatermarkError(
            f"watermark does not start with {PREFIX!r}; pass back a watermark this adapter issued"
        )
    payload = text[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        body = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise WatermarkError("watermark is not valid base64url-encoded JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("p"), Mapping):
        raise WatermarkError("watermark has no positions")
    positions: list[tuple[str, Position]] = []
    for name, entry in body["p"].items():
        if not (isinstance(entry, list) and len(entry) == 3 and entry[0] in (PHASE_NULL, PHASE_TS)):
            raise WatermarkError(f"watermark position of dataset {name!r} is malformed")
        positions.append((name, Position(entry[0], _untag(entry[1]), _untag(entry[2]))))
    return Watermark(tuple(positions))
