"""``pingan audit``: keys, offline verification, export, tail and query of the audit log.

``verify`` needs only the export file and the public (verifier) key: it is what
an auditor runs on their own machine. ``tail``/``query``/``export`` read either
the database directly (``--db URL``) or a running hub's AuditService
(``--hub HOST:PORT``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pingan.cli import CommandError, hub_channel

DEFAULT_ORIGIN = "pingan-hub/audit"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("audit", help="verifiable audit log: keys, verify, export, tail, query")
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    p = sub.add_parser("keygen", help="create a checkpoint signing key pair and a sealing keyring")
    p.add_argument("--out", required=True, type=Path, help="directory for NAME.skey, NAME.vkey, sealing.json")
    p.add_argument("--name", default="pingan-hub-audit", help="signed-note key name (default: %(default)s)")
    p.set_defaults(handler=_keygen)

    p = sub.add_parser(
        "rotate-key",
        help="add a new active sealing key to a keyring (old keys stay, so old entries remain readable)",
    )
    p.add_argument("--keyring", required=True, type=Path, help="sealing keyring file (JSON)")
    p.add_argument("--key-id", help="id of the new key (default: the next kN)")
    p.set_defaults(handler=_rotate_key)

    p = sub.add_parser("verify", help="verify an export offline (entries, checkpoints, consistency)")
    p.add_argument("export", type=Path, help="export file (JSON lines, see docs/audit.md)")
    p.add_argument("--key", required=True, type=Path, help="verifier key file (NAME.vkey)")
    p.add_argument(
        "--trusted", action="append", default=[], type=Path, metavar="NOTE",
        help="a checkpoint note seen earlier; a different root at its size is reported as a fork (repeatable)",
    )
    p.add_argument("--strict", action="store_true", help="also check every entry's canonical form and fields (slower)")
    p.set_defaults(handler=_verify)

    p = sub.add_parser("export", help="write a range of the log with its checkpoints to a file")
    _source_args(p)
    p.add_argument("--out", required=True, type=Path, help="file to write")
    p.add_argument("--from", dest="from_index", type=int, default=0, help="first index (default 0)")
    p.add_argument("--to", dest="to_index", type=int, default=0, help="end index, a checkpoint size (default latest)")
    p.set_defaults(handler=_export)

    p = sub.add_parser("checkpoint", help="sign a checkpoint for the current log size now")
    p.add_argument("--db", required=True, help="SQLAlchemy URL of the audit database")
    p.add_argument("--key", required=True, type=Path, help="signer key file (NAME.skey)")
    p.add_argument("--origin", default=DEFAULT_ORIGIN, help="checkpoint origin line (default: %(default)s)")
    p.set_defaults(handler=_checkpoint)

    p = sub.add_parser("tail", help="print the newest entries as a table")
    _source_args(p)
    p.add_argument("-n", "--lines", type=int, default=20, help="how many entries (default 20)")
    p.add_argument("--keyring", type=Path, help="sealing keyring to show justifications in clear")
    p.set_defaults(handler=_tail)

    p = sub.add_parser("query", help="print entries matching filters as a table")
    _source_args(p)
    for name in ("caller", "person", "department", "outcome", "purpose", "kind"):
        p.add_argument(f"--{name}", default="", help=f"only entries with this {name}")
    p.add_argument("--since", help="RFC 3339 time, inclusive")
    p.add_argument("--until", help="RFC 3339 time, exclusive")
    p.add_argument("--from", dest="from_index", type=int, default=0, help="first index to consider")
    p.add_argument("--limit", type=int, default=100, help="maximum entries (default 100)")
    p.add_argument("--keyring", type=Path, help="sealing keyring to show justifications in clear")
    p.set_defaults(handler=_query)

    p = sub.add_parser(
        "reconcile",
        help="compare a department adapter's access log with the audit log (fetches without entries and back)",
    )
    p.add_argument("--db", required=True, help="SQLAlchemy URL of the audit database")
    p.add_argument("--adapter-db", required=True, help="SQLAlchemy URL of the adapter's state database")
    p.add_argument("--department", required=True, help="the adapter's department name, e.g. justice")
    p.add_argument("--since", help="RFC 3339 time, inclusive")
    p.add_argument("--until", help="RFC 3339 time, exclusive")
    p.set_defaults(handler=_reconcile)

    p = sub.add_parser(
        "anomalies",
        help="callers whose volume, out-of-jurisdiction denials, night-time access or break glass stand out",
    )
    p.add_argument("--db", required=True, help="SQLAlchemy URL of the audit database")
    p.add_argument("--since", help="RFC 3339 time, inclusive")
    p.add_argument("--until", help="RFC 3339 time, exclusive")
    p.add_argument("--utc-offset", type=float, default=8.0, help="local time for 'night', hours from UTC (default 8)")
    p.add_argument("--night", default="22-6", help="night hours, local, START-END (default 22-6)")
    p.add_argument("--threshold", type=float, default=3.5, help="modified z-score to report (default 3.5)")
    p.set_defaults(handler=_anomalies)


def _source_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--db", help="SQLAlchemy URL of the audit database")
    g.add_argument("--hub", help="HOST:PORT of a hub serving AuditService")
    hub_channel.add_arguments(p)


# ---- keygen / verify / checkpoint ---------------------------------------------------


def _keygen(args: argparse.Namespace) -> int:
    from audit.checkpoint import NoteSigner
    from audit.errors import AuditError
    from audit.sealed import Keyring

    try:
        signer = NoteSigner.generate(args.name)
        skey, vkey = signer.save(args.out)
    except AuditError as exc:
        raise CommandError(str(exc)) from exc
    sealing = args.out / "sealing.json"
    if not sealing.exists():
        import os

        fd = os.open(sealing, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(Keyring.generate("k1").to_json())
    print(f"signer key (keep secret, hub only): {skey}")
    print(f"verifier key (give to auditors and departments): {vkey}")
    print(f"sealing keyring (hub and auditors' tooling): {sealing}")
    return 0


def _rotate_key(args: argparse.Namespace) -> int:
    from audit.errors import AuditError
    from audit.sealed import Keyring

    try:
        keyring = Keyring.load(args.keyring)
        rotated = keyring.rotated(args.key_id)
        rotated.save(args.keyring)
    except AuditError as exc:
        raise CommandError(str(exc)) from exc
    print(f"{args.keyring}: active key is now {rotated.active}; keys {', '.join(rotated.key_ids)}")
    print("restart (or roll) the hub replicas so they seal with the new key; give auditors the new file")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from audit.checkpoint import NoteVerifier
    from audit.errors import KeyFileError, VerificationError
    from audit.verify import verify_export

    try:
        verifier = NoteVerifier.load(args.key)
    except KeyFileError as exc:
        raise CommandError(str(exc)) from exc
    trusted = []
    for path in args.trusted:
        try:
            trusted.append(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"{path}: cannot read trusted checkpoint ({exc.strerror})") from exc
    try:
        with args.export.open("rb") as fh:
            report = verify_export(fh, verifier, trusted, strict=args.strict)
    except FileNotFoundError as exc:
        raise CommandError(f"{args.export}: no such export file") from exc
    except VerificationError as exc:
        print(f"FAILED {args.export}: {exc.where}: {exc.reason}", file=sys.stderr)
        return 1
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(report.summary())
    return 0


def _checkpoint(args: argparse.Namespace) -> int:
    from audit.checkpoint import NoteSigner
    from audit.errors import AuditError
    from audit.store import AuditLog

    try:
        signer = NoteSigner.load(args.key)
        log = AuditLog(args.db, origin=args.origin, signer=signer)
        cp = log.checkpoint()
    except AuditError as exc:
        raise CommandError(str(exc)) from exc
    sys.stdout.write(cp.note)
    return 0


# ---- reading: database or hub ---------------------------------------------------------


def _open_db(url: str) -> Any:
    import sqlalchemy as sa

    from audit.store import AuditLog

    try:
        log = AuditLog(url, create=False)
        log.size()
    except (sa.exc.SQLAlchemyError, ValueError) as exc:
        raise CommandError(
            f"cannot read an audit log at {url!r} ({type(exc).__name__}); check the URL, "
            "or start the hub once so it creates the audit tables"
        ) from exc
    return log


def _channel(args: argparse.Namespace) -> Any:
    return hub_channel.open_channel(args, args.hub)


def _metadata(args: argparse.Namespace) -> list[tuple[str, str]]:
    return hub_channel.token_metadata(args)


def _rpc_error(exc: Any) -> CommandError:
    return CommandError(f"hub answered {exc.code().name}: {exc.details()}")


def _hub_query(args: argparse.Namespace, **fields: Any) -> list[tuple[int, int, bytes]]:
    import grpc

    from pingan.v1 import audit_pb2, audit_pb2_grpc

    with _channel(args) as channel:
        stub = audit_pb2_grpc.AuditServiceStub(channel)
        try:
            resp = stub.QueryEntries(audit_pb2.QueryEntriesRequest(**fields), metadata=_metadata(args), timeout=30)
            return [
                (r.entry.index, r.entry.time.seconds * 1_000_000 + r.entry.time.nanos // 1000, r.entry.canonical)
                for r in resp
            ]
        except grpc.RpcError as exc:
            raise _rpc_error(exc) from exc


def _tail(args: argparse.Namespace) -> int:
    if args.lines <= 0 or args.lines > 10000:
        raise CommandError("--lines must be between 1 and 10000")
    if args.db:
        log = _open_db(args.db)
        size = log.size()
        rows = [(e.index, e.logged_at_us, e.canonical) for e in log.entries(max(0, size - args.lines), size)]
    else:
        import grpc

        from pingan.v1 import audit_pb2, audit_pb2_grpc

        with _channel(args) as channel:
            stub = audit_pb2_grpc.AuditServiceStub(channel)
            try:
                latest = stub.GetLatestCheckpoint(audit_pb2.GetLatestCheckpointRequest(), metadata=_metadata(args), timeout=30)
                start = max(0, latest.tree_size - args.lines)
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.NOT_FOUND:
                    raise _rpc_error(exc) from exc
                start = 0
        rows = _hub_query(args, from_index=start, page_size=1000)[-args.lines :]
    _print_table(rows, _keyring(args), title=f"last {len(rows)} audit entries")
    return 0


def _query(args: argparse.Namespace) -> int:
    from audit.entry import parse_rfc3339
    from audit.errors import EntryError

    if not 0 < args.limit <= 1000:
        raise CommandError("--limit must be between 1 and 1000")
    try:
        since = parse_rfc3339(args.since) if args.since else None
        until = parse_rfc3339(args.until) if args.until else None
    except EntryError as exc:
        raise CommandError(f"{exc}; write e.g. 2026-11-22T08:00:00Z") from exc
    if args.db:
        from audit.store import EntryFilter

        flt = EntryFilter(
            since_us=int(since.timestamp() * 1_000_000) if since else None,
            until_us=int(until.timestamp() * 1_000_000) if until else None,
            caller=args.caller, person_id=args.person, department=args.department,
            outcome=args.outcome, purpose=args.purpose, kind=args.kind,
        )
        rows = [(e.index, e.logged_at_us, e.canonical) for e in _open_db(args.db).query(flt, args.from_index, args.limit)]
    else:
        from google.protobuf.timestamp_pb2 import Timestamp

        fields: dict[str, Any] = {
            "caller": args.caller, "person_id": args.person, "department": args.department, "outcome": args.outcome,
            "purpose": args.purpose, "kind": args.kind, "from_index": args.from_index, "page_size": args.limit,
        }
        for name, value in (("since", since), ("until", until)):
            if value is not None:
                ts = Timestamp()
                ts.FromDatetime(value)
                fields[name] = ts
        rows = _hub_query(args, **fields)
    _print_table(rows, _keyring(args), title=f"{len(rows)} matching audit entries")
    return 0


def _export(args: argparse.Namespace) -> int:
    if args.db:
        from audit.errors import StoreError
        from audit.export import export_lines

        log = _open_db(args.db)
        try:
            lines: Iterator[bytes] = export_lines(log, args.from_index, args.to_index)
            first = next(lines)
        except StoreError as exc:
            raise CommandError(str(exc)) from exc
        with args.out.open("wb") as fh:
            fh.write(first)
            for line in lines:
                fh.write(line)
    else:
        import grpc

        from pingan.v1 import audit_pb2, audit_pb2_grpc

        with _channel(args) as channel, args.out.open("wb") as fh:
            stub = audit_pb2_grpc.AuditServiceStub(channel)
            req = audit_pb2.ExportRangeRequest(from_index=args.from_index, to_index=args.to_index)
            try:
                for resp in stub.ExportRange(req, metadata=_metadata(args)):
                    fh.write(resp.chunk)
            except grpc.RpcError as exc:
                raise _rpc_error(exc) from exc
    print(f"wrote {args.out}")
    return 0


# ---- display ----------------------------------------------------------------------------


def _keyring(args: argparse.Namespace) -> Any:
    if not getattr(args, "keyring", None):
        return None
    from audit.errors import KeyFileError
    from audit.sealed import Keyring

    try:
        return Keyring.load(args.keyring)
    except KeyFileError as exc:
        raise CommandError(str(exc)) from exc


def _open_sealed(keyring: Any, value: Any, field: str) -> str:
    if not value:
        return ""
    if keyring is None:
        return "(sealed)"
    from audit.errors import SealError
    from audit.sealed import Sealed

    try:
        return keyring.open(Sealed.from_text(value), field)
    except SealError as exc:
        return f"(cannot open: {exc})"


def _print_table(rows: list[tuple[int, int, bytes]], keyring: Any, title: str) -> None:
    from datetime import UTC, datetime

    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("#", "logged (UTC)", "kind", "caller", "purpose", "person", "sections", "justification", "request"):
        table.add_column(col, overflow="fold")
    for index, logged_us, canonical in rows:
        try:
            body = json.loads(canonical)
        except ValueError:
            body = {"kind": "(unreadable)"}
        caller = body.get("caller") or {}
        who = f"{caller.get('user', '')}@{caller.get('department', '')}" if isinstance(caller, dict) and caller else (
            body.get("proposer") or body.get("actor") or ""
        )
        sections = " ".join(f"{s.get('department')}:{s.get('outcome')}" for s in body.get("sections") or [])
        if body.get("kind") == "policy_change":
            sections = f"{body.get('policy')} {str(body.get('hash_before'))[:8]}->{str(body.get('hash_after'))[:8]}"
        when = datetime.fromtimestamp(logged_us / 1_000_000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(
            str(index), when, str(body.get("kind", "")), who, str(body.get("purpose", "")),
            str(body.get("person_id", "")), sections,
            _open_sealed(keyring, body.get("justification"), "justification"), str(body.get("request_id", "")),
        )
    Console().print(table)


def _anomalies(args: argparse.Namespace) -> int:
    import datetime as dt

    from rich.console import Console
    from rich.table import Table

    from audit.anomalies import find_anomalies
    from audit.entry import parse_rfc3339
    from audit.errors import EntryError
    from audit.store import EntryFilter

    try:
        since = parse_rfc3339(args.since) if args.since else None
        until = parse_rfc3339(args.until) if args.until else None
    except EntryError as exc:
        raise CommandError(f"{exc}; write e.g. 2026-11-22T08:00:00Z") from exc
    try:
        start, end = (int(h) for h in args.night.split("-"))
        if not (0 <= start < 24 and 0 <= end < 24):
            raise ValueError
    except ValueError:
        raise CommandError("--night must be START-END in whole hours 0-23, e.g. 22-6") from None
    if not -14 <= args.utc_offset <= 14:
        raise CommandError("--utc-offset must be between -14 and 14 hours")
    log = _open_db(args.db)
    flt = EntryFilter(
        kind="access",
        since_us=int(since.timestamp() * 1_000_000) if since else None,
        until_us=int(until.timestamp() * 1_000_000) if until else None,
    )

    def entries():  # type: ignore[no-untyped-def]
        start_index = 0
        while page := log.query(flt, start_index, 1000):
            yield from (stored.decode() for stored in page)
            start_index = page[-1].index + 1

    findings = find_anomalies(
        entries(),
        tz=dt.timezone(dt.timedelta(hours=args.utc_offset)),
        night=(start, end),
        threshold=args.threshold,
    )
    table = Table(title=f"{len(findings)} finding(s): callers standing out against peers of the same role")
    for column in ("caller", "role", "measure", "value", "peer median", "score", "peers", "entries"):
        table.add_column(column)
    for f in findings:
        value = f"{f.value:.0f}" if f.measure == "volume" else f"{f.value:.0%}"
        median = f"{f.peer_median:.0f}" if f.measure == "volume" else f"{f.peer_median:.0%}"
        shown = ", ".join(str(i) for i in f.entries[:10]) + (" ..." if len(f.entries) > 10 else "")
        table.add_row(f.caller, f.role, f.measure, value, median, f"{f.score:.1f}", str(f.peers), shown)
    Console(width=160).print(table)
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from audit.entry import parse_rfc3339
    from audit.errors import EntryError
    from audit.reconcile import ReconcileError, reconcile

    try:
        since = parse_rfc3339(args.since) if args.since else None
        until = parse_rfc3339(args.until) if args.until else None
    except EntryError as exc:
        raise CommandError(f"{exc}; write e.g. 2026-11-22T08:00:00Z") from exc
    try:
        result = reconcile(_open_db(args.db), args.adapter_db, args.department, since=since, until=until)
    except ReconcileError as exc:
        raise CommandError(str(exc)) from exc
    console = Console(width=160)
    console.print(
        f"{args.department}: {result.fetches} fetches in the adapter's log, "
        f"{result.entries} audit entries showing its data"
    )
    if result.fetches_without_entry:
        table = Table(title="fetches the adapter served with no audit entry")
        for column in ("request id", "at", "datasets", "records", "caller"):
            table.add_column(column)
        for f in result.fetches_without_entry:
            table.add_row(f.request_id, f.at.isoformat(), ", ".join(f.datasets), str(f.records), f.caller)
        console.print(table)
    if result.entries_never_seen:
        table = Table(title="audit entries showing this department's data that the adapter never served")
        for column in ("index", "request id", "time", "caller"):
            table.add_column(column)
        for e in result.entries_never_seen:
            table.add_row(str(e.index), e.request_id, e.time, e.caller)
        console.print(table)
    if result.clean:
        console.print("reconciled: every fetch has its entry and every entry its fetch")
        return 0
    return 1
