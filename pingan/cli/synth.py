"""``pingan synth``: write the synthetic department databases.

One SQLite file per department (``DIR/<department>.db``), ``DIR/ground_truth.csv`` and
``DIR/manifest.json``; see docs/synthetic-data.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pingan.cli import CommandError


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "synth",
        help="generate synthetic department databases with ground truth",
        description="Write one SQLite database per department (each with its own schema), "
        "a ground-truth file and a manifest, deterministically from the seed.",
    )
    parser.add_argument("--persons", type=_positive_int, default=10_000, help="number of residents (default 10000)")
    parser.add_argument("--seed", type=_positive_int, default=1, help="random seed (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="output directory (created if missing)")
    parser.add_argument(
        "--copy-to",
        metavar="URL",
        help="also copy every department's tables into this SQLAlchemy database (e.g. PostgreSQL); "
        "table names differ across departments, so one database holds them all",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from adapters.synth.database_copy import copy_department
    from adapters.synth.departments import all_departments
    from adapters.synth.errors import SynthError
    from adapters.synth.generate import generate

    started = time.perf_counter()
    try:
        result = generate(args.persons, args.seed, args.out)
        if args.copy_to:
            for module in all_departments():
                copy_department(args.out, module.SCHEMA, args.copy_to)
    except SynthError as exc:
        raise CommandError(str(exc)) from exc
    elapsed = time.perf_counter() - started
    if not args.quiet:
        print(f"{result.persons} persons in {result.households} households -> {result.out_dir} ({elapsed:.1f} s)")
        for department, tables in result.tables.items():
            listing = ", ".join(f"{t} {n}" for t, n in tables.items())
            print(f"  {department}.db: {listing}")
        print(f"  ground_truth.csv: {result.ground_truth_records} records; manifest.json")
        if args.copy_to:
            print(f"  copied every department's tables to {_redacted(args.copy_to)}")
    return 0


def _redacted(url: str) -> str:
    """The URL without its password, for printing."""
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "the given database"
