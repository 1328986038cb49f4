"""Department alert rules (``[[alerts]]``) and the ListAlerts read (REQUIREMENTS.md 8).

A rule is the department's own SQL over its own database ("three consecutive missed
counselling sessions", "follow-up overdue") returning one row per current condition:
``record_id`` (a record of the rule's dataset, so the hub can resolve the person),
``raised_at`` (when the condition arose, in any of the department's date formats) and
optionally ``detail_value``. The alert itself carries no personal data: its detail is
the rule's template with only ``{detail_value}`` filled in, and the person is named by
the department's local record id only. Queries run on the read-only engine of
:class:`adapters.source.DepartmentSource`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

import sqlalchemy as sa

from adapters.errors import ConfigError
from adapters.model import AdapterConfig, AlertRule
from adapters.source import DepartmentSource
from adapters.values import timestamp, to_datetime, to_text
from pingan.v1 import adapter_pb2

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("record_id", "raised_at")
OPTIONAL_COLUMNS = ("detail_value",)
DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
MAX_DETAIL_VALUE_CHARS = 64


def check_alert_queries(config: AdapterConfig, source: DepartmentSource) -> None:
    """Run every rule's query with no rows (``WHERE 1 = 0``) and check its result columns.

    Exactly ``record_id`` and ``raised_at`` are required and ``detail_value`` is the
    only other column allowed; a failing query or a wrong column is a ConfigError
    naming the file and ``alerts[<name>].query``.
    """
    allowed = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    with source.engine.connect() as conn:
        for rule in config.alerts:
            key = f"{config.path}: alerts[{rule.name}].query"
            probe = sa.text(f"SELECT * FROM ({rule.query}) AS pingan_alert_probe WHERE 1 = 0")
            try:
                columns = tuple(conn.execute(probe).keys())
            except sa.exc.DBAPIError as exc:
                conn.rollback()
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
                raise ConfigError(f"{key}: the query fails: {reason}") from None
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise ConfigError(
                    f"{key}: the query result lacks column(s) {', '.join(missing)} "
                    f"(it must return record_id, raised_at and optionally detail_value; got: {', '.join(columns)})"
                )
            extra = [c for c in columns if c not in allowed]
            if extra:
                raise ConfigError(
                    f"{key}: the query returns column(s) {', '.join(extra)} that an alert may not carry "
                    "(only record_id, raised_at and detail_value)"
                )


def alert_id(department: str, rule: AlertRule, record_id: str, raised_at: dt.datetime) -> str:
    """Stable across polls: department, rule, record and the day the condition arose."""
    return f"{department}:{rule.name}:{record_id}:{raised_at.date().isoformat()}"


def _detail(rule: AlertRule, value: object) -> str:
    text = "" if value is None else to_text(value)[:MAX_DETAIL_VALUE_CHARS]
    return rule.detail.format(detail_value=text)


def list_alerts(
    config: AdapterConfig,
    source: DepartmentSource,
    *,
    since: dt.datetime | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[adapter_pb2.DepartmentAlert]:
    """Current alerts of every rule raised at or after ``since``, oldest first, at most ``limit``.

    A row whose ``raised_at`` cannot be read as a date is skipped with a warning
    (naming the rule, never the value); a database error propagates as
    :class:`sqlalchemy.exc.DBAPIError` for the server to answer UNAVAILABLE.
    """
    found: list[tuple[dt.datetime, str, adapter_pb2.DepartmentAlert]] = []
    with source.engine.connect() as conn:
        for rule in config.alerts:
            rows = conn.execute(sa.text(rule.query)).mappings().all()
            skipped = 0
            for row in rows:
                raised = to_datetime(row["raised_at"])
                if raised is None or row["record_id"] is None:
                    skipped += 1
                    continue
                if since is not None and raised < since:
                    continue
                record_id = str(row["record_id"])
                stamp = timestamp(raised)
                assert stamp is not None
                aid = alert_id(config.department, rule, record_id, raised)
                found.append(
                    (
                        raised,
                        aid,
                        adapter_pb2.DepartmentAlert(
                            alert_id=aid,
                            kind=rule.kind,
                            dataset=rule.dataset,
                            local_record_id=record_id,
                            raised_at=stamp,
                            severity=rule.severity,
                            detail=_detail(rule, row.get("detail_value")),
                        ),
                    )
                )
            if skipped:
                log.warning("alert rule %s: %d row(s) without a readable raised_at or record_id skipped", rule.name, skipped)
    found.sort(key=lambda item: (item[0], item[1]))
    unique: dict[str, adapter_pb2.DepartmentAlert] = {}
    for _, aid, alert in found:
        unique.setdefault(aid, alert)
    return list(unique.values())[:limit]


def datasets_of(alerts: Sequence[adapter_pb2.DepartmentAlert]) -> str:
    """The datasets the alerts point into, for the access log's dataset column."""
    return ",".join(sorted({a.dataset for a in alerts})) or "*"
