"""StreamLinkage: incremental linkage encodings in watermark order (issue 3, item 3).

For each dataset in configuration order, rows after the client's position are
read in batches, their identity columns encoded with the linkage secret
(:class:`adapters.linkage.encoder.LinkageEncoder`), and sent with jurisdiction,
sensitive-group tags (dataset groups plus matching group rules) and updated_at.
Each batch carries the watermark after it, so a client that stops (or an
adapter that restarts) resumes without gaps or repeats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from adapters.linkage.encoder import LinkageEncoder
from adapters.linkage.fields import IdentityFields
from adapters.model import GROUPS, AdapterConfig, DatasetConfig
from adapters.source import DepartmentSource
from adapters.values import timestamp
from adapters.watermark import PHASE_NULL, PHASE_TS, Position, Watermark, encode
from pingan.v1 import adapter_pb2, linkage_pb2

DEFAULT_BATCH = 500
MAX_BATCH = 5000


def _text(raw: object) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, (dt.datetime, dt.date)):
        return raw.isoformat()
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    text = str(raw).strip()
    return text or None


def linkage_columns(ds: DatasetConfig) -> list[str]:
    """Columns a linkage scan needs besides id and updated_at."""
    columns = [column for _, column in ds.identity]
    if ds.jurisdiction_column:
        columns.append(ds.jurisdiction_column)
    columns.extend(rule.column for rule in ds.group_rules)
    return list(dict.fromkeys(columns))


def groups_of(ds: DatasetConfig, row: Mapping[str, Any]) -> list[int]:
    """Dataset groups, then groups whose rule matches the row, without repeats."""
    names = list(ds.groups)
    for rule in ds.group_rules:
        value = _text(row.get(rule.column))
        if value is not None and value in rule.values:
            names.append(rule.group)
    return [GROUPS[name] for name in dict.fromkeys(names)]


def linkage_record(
    encoder: LinkageEncoder, ds: DatasetConfig, row: Mapping[str, Any]
) -> linkage_pb2.LinkageRecord:
    identity = IdentityFields(**{canonical: _text(row[column]) for canonical, column in ds.identity})
    record = linkage_pb2.LinkageRecord(
        dataset=ds.name,
        local_record_id=str(row[ds.id_column]),
        encoding=encoder.encode(identity),
        jurisdiction=(_text(row[ds.jurisdiction_column]) or "") if ds.jurisdiction_column else "",
        groups=groups_of(ds, row),
    )
    stamp = timestamp(row[ds.updated_at_column])
    if stamp is not None:
        record.updated_at.CopyFrom(stamp)
    return record


def batches(
    config: AdapterConfig,
    source: DepartmentSource,
    encoder: LinkageEncoder,
    watermark: Watermark,
    batch_size: int,
) -> Iterator[adapter_pb2.StreamLinkageResponse]:
    """Responses in watermark order; an empty final response when nothing changed (to echo the watermark)."""
    sent = False
    for ds in config.datasets:
        position = watermark.position(ds.name)
        columns = linkage_columns(ds)
        while True:
            rows = source.scan(ds.name, position, batch_size, columns)
            if not rows:
                break
            last = rows[-1]
            updated = last[ds.updated_at_column]
            position = Position(PHASE_NULL if updated is None else PHASE_TS, updated, last[ds.id_column])
            watermark = watermark.advanced(ds.name, position)
            yield adapter_pb2.StreamLinkageResponse(
                records=[linkage_record(encoder, ds, row) for row in rows], watermark=encode(watermark)
            )
            sent = True
            if len(rows) < batch_size:
                break
    if not sent:
        yield adapter_pb2.StreamLinkageResponse(watermark=encode(watermark))
