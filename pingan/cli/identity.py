"""``pingan identity``: identity resolution tools.

``pingan identity link A.csv B.csv [...] --out LINKS.csv [--households HOUSEHOLDS.csv]``
runs the production path on plain CSV files: each file is tokenised as an adapter
would (``adapters.linkage.encoder`` with a fresh random secret that is never
written anywhere), then resolved by the hub's resolver (``hub.identity.index`` on
a temporary SQLite database). Malformed rows are reported with file and line and
skipped; their values are never printed.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pingan.cli import CommandError

if TYPE_CHECKING:
    from hub.identity.index import IdentityIndex

HEADER = (
    "record_id",
    "name",
    "id_number",
    "other_id",
    "birth_date",
    "sex",
    "phone",
    "registered_address",
    "residence_address",
)
BATCH = 2000


@dataclass(frozen=True, slots=True)
class Problem:
    """A skipped row: where and why (never the row's values)."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}; row skipped"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("identity", help="identity resolution tools")
    sub = parser.add_subparsers(dest="identity_command", metavar="SUBCOMMAND", required=True)
    link = sub.add_parser(
        "link",
        help="link the records of CSV files into persons (and households)",
        description="Tokenise each CSV as an adapter would (fresh random secret) and resolve the "
        f"encodings with the hub's resolver. Input header: {','.join(HEADER)}.",
    )
    link.add_argument("inputs", nargs="+", type=Path, metavar="CSV", help="input files (source = file stem)")
    link.add_argument("--out", type=Path, required=True, help="write source,record_id,person_id here")
    link.add_argument("--households", type=Path, help="also write source,record_id,household_id here")
    link.add_argument("--quiet", action="store_true", help="print only problems")
    link.set_defaults(handler=run_link)


def _rows(path: Path, problems: list[Problem]) -> Iterator[tuple[int, dict[str, str]]]:
    """Valid rows of one file with their line numbers; malformed ones go to ``problems``."""
    from adapters.linkage.dates import parse_date

    try:
        handle = path.open("r", encoding="utf-8", errors="surrogateescape", newline="")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise CommandError(f"{path} is empty; expected the header {','.join(HEADER)}") from None
        header = [h.strip().lstrip("\ufeff") for h in header]
        if tuple(header) != HEADER:
            missing = [h for h in HEADER if h not in header]
            extra = [h for h in header if h not in HEADER]
            detail = "; ".join(
                part
                for part in (
                    f"missing columns: {', '.join(missing)}" if missing else "",
                    f"unknown columns: {', '.join(extra)}" if extra else "",
                    "columns out of order" if not missing and not extra else "",
                )
                if part
            )
            raise CommandError(f"{path}: header must be {','.join(HEADER)} ({detail})")
        seen: set[str] = set()
        line = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                problems.append(Problem(str(path), reader.line_num, f"unreadable CSV ({exc})"))
                continue
            start, line = line + 1, reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(HEADER):
                problems.append(Problem(str(path), start, f"{len(row)} columns, expected {len(HEADER)}"))
                continue
            if any("\udc80" <= ch <= "\udcff" for cell in row for ch in cell):
                problems.append(Problem(str(path), start, "invalid UTF-8"))
                continue
            values = dict(zip(HEADER, (c.strip() for c in row), strict=True))
            if not values["record_id"]:
                problems.append(Problem(str(path), start, "empty record_id"))
                continue
            if values["record_id"] in seen:
                problems.append(Problem(str(path), start, "duplicate record_id"))
                continue
            if values["birth_date"] and parse_date(values["birth_date"]) is None:
                problems.append(Problem(str(path), start, "birth_date is not a date in a known format"))
                continue
            seen.add(values["record_id"])
            yield start, values


def run_link(args: argparse.Namespace) -> int:
    import secrets
    import tempfile

    from adapters.linkage.encoder import LinkageEncoder
    from adapters.linkage.fields import IdentityFields
    from hub.identity.index import IdentityIndex
    from pingan.v1 import linkage_pb2

    stems = [p.stem for p in args.inputs]
    if len(set(stems)) != len(stems):
        raise CommandError("input files must have distinct names (the file stem is the source)")
    encoder = LinkageEncoder(secrets.token_bytes(32))
    problems: list[Problem] = []
    order: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="pingan-link-") as tmp:
        index = IdentityIndex(f"sqlite:///{Path(tmp) / 'identity.db'}")
        for path in args.inputs:
            source = path.stem
            batch: list[linkage_pb2.LinkageRecord] = []
            for _line, v in _rows(path, problems):
                fields = IdentityFields(
                    name=v["name"] or None,
                    id_number=v["id_number"] or None,
                    other_id=v["other_id"] or None,
                    birth_date=v["birth_date"] or None,
                    sex=v["sex"] or None,
                    phone=v["phone"] or None,
                    registered_address=v["registered_address"] or None,
                    residence_address=v["residence_address"] or None,
                )
                encoding = encoder.encode(fields)
                if not encoding.exact and not encoding.bloom:
                    problems.append(Problem(str(path), _line, "no usable identifier"))
                    continue
                batch.append(linkage_pb2.LinkageRecord(dataset=source, local_record_id=v["record_id"], encoding=encoding))
                order.append((source, v["record_id"]))
                if len(batch) >= BATCH:
                    index.apply_batch(source, batch, "")
                    batch = []
            if batch:
                index.apply_batch(source, batch, "")
        for problem in problems:
            print(problem, file=sys.stderr)
        if not order:
            raise CommandError("no valid rows in the input files")
        summary = index.resolve()
        persons = {(d, lid): pid for d, lid, pid in _assignments(index)}
        households = _households(index) if args.households else {}
        index.engine.dispose()
    _write(args.out, ("source", "record_id", "person_id"), [(s, r, persons[(s, r)]) for s, r in order])
    if args.households:
        _write(
            args.households,
            ("source", "record_id", "household_id"),
            [(s, r, households[persons[(s, r)]]) for s, r in order],
        )
    if not args.quiet:
        print(
            f"{summary.records} records -> {summary.persons} persons, {summary.households} households "
            f"({len(problems)} rows skipped) -> {args.out}"
        )
    return 0


def _assignments(index: IdentityIndex) -> list[tuple[str, str, str]]:
    import sqlalchemy as sa

    from hub.identity import store

    r, a = store.records.c, store.assignments.c
    query = sa.select(r.department, r.local_record_id, a.person_id).join_from(
        store.records, store.assignments, a.record_id == r.id
    )
    with index.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def _households(index: IdentityIndex) -> dict[str, str]:
    import sqlalchemy as sa

    from hub.identity import store

    p = store.persons.c
    with index.engine.connect() as conn:
        return dict(conn.execute(sa.select(p.person_id, p.household_id).where(p.active.is_(True))).all())


def _write(path: Path, header: tuple[str, ...], rows: list[tuple[str, str, str]]) -> None:
    try:
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None
