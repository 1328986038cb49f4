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
        help="pull linkage encodings from the adapters and resolve at start and then every SECONDS "
        "(default 300); 0: once at start only; a negative value (--link-every -1), like --no-link: never",
    )
    serve.add_argument(
        "--no-link",
        dest="link_every",
        action="store_const",
        const=-1.0,
        help="never run linkage in this process (another replica links; docs/operations.md)",
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


def _startup_error(path: str, exc: BaseException) -> Any:
    """A CommandError (one line, exit 2) for a failure of the hub to start on ``path``."""
    from hub.errors import ConfigError
    from pingan.cli import CommandError

    if isinstance(exc, ConfigError):  # names the file and key already
        return CommandError(str(exc))
    return CommandError(f"{path}: {exc}")


def _startup_errors() -> tuple[type[BaseException], ...]:
    """The project's error bases a start can end in: shown as one line, never as a traceback."""
    from audit.errors import AuditError
    from hub.errors import HubError
    from hub.policy.errors import PolicyError
    from pingan.tls.errors import TlsConfigError

    return (HubError, AuditError, PolicyError, TlsConfigError)


def _runtime(path: str) -> Any:
    from hub.runtime import HubRuntime

    config = _load(path)
    try:
        return HubRuntime.create(config)
    except _startup_errors() as exc:
        raise _startup_error(path, exc) from None


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
    from hub.workers import serve_until_signalled

    runtime = _runtime(args.config)
    try:
        # SIGTERM and SIGINT stop the runtime gracefully (the server's grace period, then the
        # audit and decision-log writers are closed) and end with status 0.
        asyncio.run(
            serve_until_signalled(
                runtime,
                link_every=args.link_every,
                on_link=_print_link,
                on_started=lambda port: print(f"pingan hub listening on port {port}", flush=True),
            )
        )
    except KeyboardInterrupt:  # before the signal handlers are installed
        pass
    except _startup_errors() as exc:  # last resort: e.g. hub.listen or a [tls] file, found at start
        raise _startup_error(args.config, exc) from None
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
