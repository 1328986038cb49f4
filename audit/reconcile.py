"""Reconcile a department adapter's own access log with the hub's audit log (issue 8).

The adapter records every FetchRecords it served (``adapter_access_log``, written
before any data leaves it); the hub records every access in the Merkle log. The two
must tell the same story: a fetch the adapter served with no access entry naming it
is data that left without an audit trail, and an access entry that says a section
was shown (clear or masked) with no fetch in the adapter's log is an entry the
department never saw. Records are matched by request id, which the hub passes to
the adapter on every FetchRecords. The adapter's table is read by its documented
columns (docs/adapters.md) so this module needs no adapter code.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from audit.entry import AccessEntry, LoggedEntry, Outcome, parse_rfc3339
from audit.errors import AuditError
from audit.store import AuditLog, EntryFilter

SHOWN = (Outcome.CLEAR, Outcome.MASKED)


class ReconcileError(AuditError):
    """The adapter database cannot be read as an adapter access log."""


@dataclass(frozen=True, slots=True)
class AdapterFetch:
    request_id: str
    at: dt.datetime
    datasets: tuple[str, ...]
    records: int
    caller: str


@dataclass(frozen=True, slots=True)
class UnseenEntry:
    index: int
    request_id: str
    time: str
    caller: str


@dataclass(frozen=True, slots=True)
class Reconciliation:
    department: str
    fetches: int
    entries: int
    fetches_without_entry: tuple[AdapterFetch, ...]
    entries_never_seen: tuple[UnseenEntry, ...]

    @property
    def clean(self) -> bool:
        return not self.fetches_without_entry and not self.entries_never_seen


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def adapter_fetches(
    adapter_url: str, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> dict[str, AdapterFetch]:
    """Successful FetchRecords calls in the adapter's access log, by request id."""
    engine = sa.create_engine(adapter_url, hide_parameters=True)
    try:
        meta = sa.MetaData()
        try:
            table = sa.Table("adapter_access_log", meta, autoload_with=engine)
        except (sa.exc.NoSuchTableError, sa.exc.OperationalError) as exc:
            raise ReconcileError(f"{adapter_url}: no adapter_access_log table ({type(exc).__name__})") from None
        c = table.c
        query = sa.select(c.request_id, c.at, c.dataset, c.record_count, c.caller).where(
            (c.rpc == "FetchRecords") & (c.outcome == "OK")
        )
        grouped: dict[str, list[sa.Row]] = defaultdict(list)
        with engine.connect() as conn:
            for row in conn.execute(query):
                at = _aware(row.at)
                if (since and at < since) or (until and at >= until):
                    continue
                grouped[row.request_id].append(row)
    finally:
        engine.dispose()
    return {
        rid: AdapterFetch(
            rid,
            min(_aware(r.at) for r in rows),
            tuple(sorted({r.dataset for r in rows})),
            sum(r.record_count for r in rows),
            rows[0].caller,
        )
        for rid, rows in grouped.items()
    }


def _access_entries(log: AuditLog, since: dt.datetime | None, until: dt.datetime | None) -> Iterator[LoggedEntry]:
    flt = EntryFilter(
        kind="access",
        since_us=int(since.timestamp() * 1_000_000) if since else None,
        until_us=int(until.timestamp() * 1_000_000) if until else None,
    )
    start = 0
    while page := log.query(flt, start, 1000):
        for stored in page:
            yield stored.decode()
        start = page[-1].index + 1


def reconcile(
    log: AuditLog,
    adapter_url: str,
    department: str,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    grace: dt.timedelta = dt.timedelta(seconds=30),
) -> Reconciliation:
    """Compare both sides over [since, until).

    ``grace`` widens the audit-log window on both ends: the adapter serves a fetch a
    moment before the hub appends its entry, so a fetch just inside the window may
    have its entry just outside it.
    """
    fetches = adapter_fetches(adapter_url, since=since, until=until)
    wide_since = since - grace if since else None
    wide_until = until + grace if until else None
    shown: dict[str, UnseenEntry] = {}
    logged_ids: set[str] = set()
    for logged in _access_entries(log, wide_since, wide_until):
        entry = logged.entry
        if not isinstance(entry, AccessEntry):
            continue
        logged_ids.add(entry.request_id)
        in_window = (since is None or parse_rfc3339(entry.time) >= since) and (
            until is None or parse_rfc3339(entry.time) < until
        )
        if in_window and any(s.department == department and s.outcome in SHOWN for s in entry.sections):
            shown.setdefault(entry.request_id, UnseenEntry(logged.index, entry.request_id, entry.time, entry.caller.user))
    missing = tuple(sorted((f for rid, f in fetches.items() if rid not in logged_ids), key=lambda f: f.at))
    unseen = tuple(sorted((e for rid, e in shown.items() if rid not in fetches), key=lambda e: e.index))
    return Reconciliation(department, len(fetches), len(shown), missing, unseen)
