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
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="hub processes sharing the listening port (SO_REUSEPORT), about one per core; worker 0 links "
        "(docs/operations.md, 'Several workers on one machine')",
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

    from pingan.cli import CommandError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.workers > 1:
        return _serve_workers(args)
    if args.workers < 1:
        raise CommandError(f"--workers must be at least 1, got {args.workers}")
    from hub.workers import serve

    runtime = _runtime(args.config)
    try:
        asyncio.run(
            serve(
                runtime,
                link_every=args.link_every,
                on_link=_print_link,
                on_started=lambda port: print(f"pingan hub listening on port {port}", flush=True),
            )
        )
    except KeyboardInterrupt:
        pass
    return 0


def _serve_workers(args: argparse.Namespace) -> int:
    import signal

    from hub.workers import Supervisor, WorkerError
    from pingan.cli import CommandError

    _load(args.config)  # a configuration error is reported here, once, naming the file and key
    try:
        supervisor = Supervisor(args.config, args.workers, args.link_every)
        port = supervisor.start()
    except WorkerError as exc:
        raise CommandError(str(exc)) from None
    print(f"pingan hub listening on port {port} with {args.workers} worker processes", flush=True)

    def _terminate(_signum: int, _frame: object) -> None:
        supervisor.stop()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _terminate)
    try:
        return supervisor.wait()
    except KeyboardInterrupt:
        supervisor.stop()
        return 0
