"""``pingan demo``: the story end to end on the embedded defaults, from nothing.

Generates a small synthetic population, starts every department adapter on
loopback (mutual TLS from a private CA made for the run, unless --no-tls), talks to
each over gRPC and prints readable tables. Each step checks its result against what
the story says (status, section outcomes, flags, the verified log, the sharing table)
and prints a "check ...: ok" or "check ...: MISMATCH" line. It stops everything it
started, prints the total run time, and exits 0 when every check held, 1 otherwise.
Everything lives in a temporary directory unless ``--keep``. Steps: docs/demo.md.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the whole story on synthetic data (SQLite, in-process policy engine)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--persons", type=int, default=2000, help="synthetic population size (default 2000)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--keep", metavar="DIR", help="keep the generated data and logs in DIR")
    parser.add_argument(
        "--no-tls",
        dest="tls",
        action="store_false",
        help="plaintext gRPC everywhere (default: mutual TLS from a private CA made for the run)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from pingan.cli import CommandError
    from pingan.cli.demo_story import run_demo

    if args.persons < 50:
        raise CommandError("--persons must be at least 50 for the story to have every kind of resident")
    return run_demo(persons=args.persons, seed=args.seed, keep=args.keep, tls=args.tls)
