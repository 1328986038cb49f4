"""``pingan stats sharing``: sharing rates computed from the audit log, never typed in."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from typing import Any

# The tables an audit log read needs; the hub creates them when it first opens the log.
AUDIT_TABLES = ("audit_entry", "audit_head")
CONNECT_TIMEOUT_S = 10


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("stats", help="figures computed from the audit log")
    sub = parser.add_subparsers(dest="stats_command", metavar="FIGURE", required=True)
    sharing = sub.add_parser("sharing", help="sharing rate per department pair and per jurisdiction")
    sharing.add_argument("--config", required=True, help="hub TOML configuration (its audit database is read)")
    sharing.add_argument("--since", type=_when, help="only entries at or after this time (ISO 8601, e.g. 2026-11-01)")
    sharing.add_argument("--until", type=_when, help="only entries before this time")
    sharing.add_argument("--jurisdiction", default="", help="only persons under this path, e.g. TH/S03")
    sharing.set_defaults(handler=_sharing)


def _when(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r} (e.g. 2026-11-01 or 2026-11-01T08:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _sharing(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from audit.store import AuditLog
    from hub.config import load_hub_config
    from hub.errors import ConfigError
    from hub.metrics.sharing import sharing_report
    from pingan.cli import CommandError

    jurisdiction = _jurisdiction(args.jurisdiction)
    if args.since and args.until and args.until <= args.since:  # as the SharingStats RPC
        raise CommandError("--until must be after --since")
    try:
        config = load_hub_config(args.config)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    url = config.audit_url
    where = _where(config, args.config)
    shown = _shown(url)
    _check_audit_db(url, shown, where)
    log = AuditLog(url, create=False)
    try:
        report = sharing_report(log, since=args.since, until=args.until, jurisdiction=jurisdiction)
    except sa.exc.SQLAlchemyError as exc:
        raise CommandError(f"reading audit database {shown} failed ({_reason(exc)}); check {where}") from None
    finally:
        log.close()
    print_sharing(report)
    return 0


def _jurisdiction(text: str) -> str:
    """The --jurisdiction filter, read exactly as the SharingStats RPC reads its own."""
    from hub.metrics.sharing import jurisdiction_filter
    from pingan.cli import CommandError

    try:
        return jurisdiction_filter(text)
    except ValueError as exc:
        raise CommandError(f"--jurisdiction: {exc}") from None


def _where(config: Any, path: str) -> str:
    """The configuration key the audit URL came from, and the file."""
    source = config.source or path
    if config.audit.url:
        return f"[audit] url in {source}"
    return f"[database] url in {source} (used because [audit] url is not set)"


def _shown(url: str) -> str:
    """The URL without its password: messages never repeat a secret."""
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _reason(exc: BaseException) -> str:
    """The driver's first line (e.g. 'Connection refused'); database errors carry no entry contents
    (the engines hide SQL parameters)."""
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {first[0]}" if first else type(orig).__name__


def _check_audit_db(url: str, shown: str, where: str) -> None:
    """Refuse, with what to do, an audit database that does not exist, does not answer or has no
    audit tables yet; never creates anything (a missing SQLite file stays missing)."""
    import sqlalchemy as sa

    from pingan.cli import CommandError

    parsed = sa.engine.make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if parsed.query.get("uri") == "true" and path.startswith("file:"):
            path = path[len("file:") :]
        if not path or path == ":memory:" or parsed.query.get("mode") == "memory":
            raise CommandError(f"audit database {shown} is in memory and holds no audit log; check {where}")
        if not os.path.exists(path):
            raise CommandError(
                f"audit database {shown} has no audit log yet: the file does not exist "
                f"(run the hub once so it creates it, or check {where})"
            )
    elif parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        engine = sa.create_engine(parsed, connect_args=connect_args, hide_parameters=True)
    except (sa.exc.SQLAlchemyError, ImportError) as exc:
        raise CommandError(f"cannot open audit database {shown} ({_reason(exc)}); check {where}") from None
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            missing = [t for t in AUDIT_TABLES if not inspector.has_table(t)]
    except sa.exc.SQLAlchemyError as exc:
        raise CommandError(
            f"cannot connect to audit database {shown} ({_reason(exc)}); is the database running? check {where}"
        ) from None
    finally:
        engine.dispose()
    if missing:
        raise CommandError(
            f"audit database {shown} has no audit log yet (no {missing[0]} table; "
            f"run the hub once so it creates it, or check {where})"
        )


def print_sharing(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if os.isatty(1) else 140)
    table = Table(title="Sharing rate by department pair (from the audit log)")
    for column in ("requesting", "providing", "clear", "masked", "denied", "unavailable", "rate"):
        table.add_column(column, justify="right" if column not in ("requesting", "providing") else "left")
    for p in report.pairs:
        table.add_row(p.requesting, p.providing, str(p.clear), str(p.masked), str(p.denied), str(p.unavailable), f"{p.rate:.1%}")
    console.print(table)
    places = Table(title="Sharing rate by jurisdiction")
    places.add_column("jurisdiction")
    places.add_column("sections", justify="right")
    places.add_column("rate", justify="right")
    for j in report.jurisdictions:
        places.add_row(j.jurisdiction, str(j.sections), f"{j.rate:.1%}")
    console.print(places)
    console.print(
        f"{report.requests} profile requests; latency p50 {report.latency_p50_ms:.1f} ms, "
        f"p95 {report.latency_p95_ms:.1f} ms"
    )
