"""The ``pingan`` console command.

Each command group lives in its own module of this package and exposes
``register(subparsers)``; handlers import their heavy dependencies lazily so
``pingan --help`` and ``pingan audit verify`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# One module per command group, in help order.
COMMAND_MODULES: tuple[str, ...] = (
    "pingan.cli.synth",
    "pingan.cli.adapter",
    "pingan.cli.demo",
    "pingan.cli.hub",
    "pingan.cli.stats",
    "pingan.cli.policy",
    "pingan.cli.token",
    "pingan.cli.audit",
    "pingan.cli.pii",
    "pingan.cli.pki",
    "pingan.cli.identity",
)


class CommandError(Exception):
    """A command failed for a reason the user can act on; printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pingan",
        description="pingan-hub: federated data sharing for grassroots public-safety work.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except CommandError as exc:
        print(f"pingan {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(result or 0)
