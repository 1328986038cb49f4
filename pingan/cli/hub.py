"""``pingan hub serve|link``: run the hub for real use, or link identities once."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("hub", help="run the hub (ProfileService, AuditService, PolicyAdmin)")
    sub = parser.add_subparsers(dest="hub_command", metavar="ACTION", required=True)

    serve = sub.add_parser("serve", help="serve until interrupted")
    serve.add_argument("--config", required=True, help="hub TOML configuration (docs/configuration.md)")
    serve.add_argument(
        "--link-every",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="pull linkage encodings from the adapters and resolve every SECONDS (0: only at start)",
    )
    serve.set_defaults(handler=_serve)

    link = sub.add_parser("link", help="pull linkage encodings from every adapter once and resolve")
    link.add_argument("--config", required=True, help="hub TOML configuration")
    link.set_defaults(handler=_link)


def _load(path: str) -> Any:
    from hub.config import load_hub_config
    from hub.errors import ConfigError
    from pingan.cli import CommandError

    try:
        return load_hub_config(path)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None


def _runtime(path: str) -> Any:
    from hub.errors import ConfigError
    from hub.runtime import HubRuntime
    from pingan.cli import CommandError

    try:
        return HubRuntime.create(_load(path))
    except ConfigError as exc:
        raise CommandError(str(exc)) from None


def _print_link(report: Any) -> None:
    for p in report.pulls:
        print(f"pulled {p.records} records in {p.batches} batches from {p.department}")
    for failure in report.failures:
        print(f"warning: {failure}")
    s = report.summary
    if s is not None:
        print(
            f"resolved {s.records} records into {s.persons} persons and {s.households} households "
            f"({s.merges} merges, {s.splits} splits; {report.audited_events} identity events audited)"
        )


def _link(args: argparse.Namespace) -> int:
    import asyncio

    runtime = _runtime(args.config)
    try:
        _print_link(runtime.link())
    finally:
        asyncio.run(runtime.stop())
    return 0


def _serve(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runtime = _runtime(args.config)

    async def main() -> None:
        port = await runtime.start()
        print(f"pingan hub listening on port {port}", flush=True)
        _print_link(await asyncio.to_thread(runtime.link))

        async def relink() -> None:
            while args.link_every > 0:
                await asyncio.sleep(args.link_every)
                _print_link(await asyncio.to_thread(runtime.link))

        task = asyncio.create_task(relink())
        try:
            assert runtime.server is not None
            await runtime.server.wait_for_termination()
        finally:
            task.cancel()
            await runtime.stop()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    return 0
