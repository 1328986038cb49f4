"""``pingan stats sharing``: sharing rates computed from the audit log, never typed in."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any


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
    from audit.store import AuditLog
    from hub.config import load_hub_config
    from hub.errors import ConfigError
    from hub.metrics.sharing import sharing_report
    from pingan.cli import CommandError

    try:
        config = load_hub_config(args.config)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    log = AuditLog(config.audit_url, create=False)
    try:
        report = sharing_report(log, since=args.since, until=args.until, jurisdiction=args.jurisdiction)
    finally:
        log.close()
    print_sharing(report)
    return 0


def print_sharing(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    import os

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
