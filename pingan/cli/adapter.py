"""``pingan adapter``: serve a department's own database to the hub, or check a configuration.

``pingan adapter serve --config FILE.toml`` runs every start-up check
(docs/adapters.md) and refuses to start with one line naming the file and key
(exit code 2) when any fails. ``pingan adapter check --config FILE.toml`` runs
the same checks and prints a summary without listening.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "adapter",
        help="serve a department database to the hub (DepartmentAdapter), or check a configuration",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="adapter_command", metavar="SUBCOMMAND", required=True)
    serve = commands.add_parser("serve", help="check the configuration and serve until interrupted")
    serve.add_argument("--config", required=True, metavar="FILE.toml", help="adapter configuration file")
    serve.add_argument("--workers", type=int, default=8, help="gRPC worker threads (default 8)")
    serve.set_defaults(handler=_serve)
    check = commands.add_parser(
        "check", help="validate the configuration against the database and print a summary"
    )
    check.add_argument("--config", required=True, metavar="FILE.toml", help="adapter configuration file")
    check.set_defaults(handler=_check)


def _serve(args: argparse.Namespace) -> int:
    import gc
    import logging
    import signal
    import threading

    from adapters.errors import ConfigError
    from adapters.server import AdapterServer
    from pingan import heap
    from pingan.cli import CommandError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.workers < 1:
        raise CommandError("--workers must be at least 1")
    try:
        server = AdapterServer.from_config(args.config, max_workers=args.workers)
        server.start()
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    # Freeze what start-up left (pingan/heap.py): a full collection over it took 99 ms under
    # the profile load benchmark and held up every profile waiting for this department.
    seconds = heap.settle()
    logging.getLogger("pingan.adapter").info(
        "%d long-lived objects kept out of full collections (%.0f ms)", gc.get_freeze_count(), seconds * 1000
    )
    print(f"adapter {server.config.department} serving on {server.address}", flush=True)
    try:
        stop.wait()
    finally:
        server.stop(grace=5)
    return 0


def _check(args: argparse.Namespace) -> int:
    from adapters.config import load_config
    from adapters.errors import ConfigError
    from adapters.linkage.errors import LinkageError
    from adapters.linkage.secret import load_secret
    from pingan.cli import CommandError

    try:
        config = load_config(args.config)
        load_secret(secret_file=config.secret_file, secret_env=config.secret_env)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    except LinkageError as exc:
        key = "linkage.secret_file" if config.secret_file else "linkage.secret_env"
        raise CommandError(f"{config.path}: {key}: {exc}") from None
    print(f"{config.path}: OK - department {config.department} ({config.display_name})")
    if config.witness is not None:
        w = config.witness
        print(
            f"  witness checks: on - hub key {w.hub_key_file}, origin {w.origin!r}, "
            f"max lag {w.max_lag_entries} entries"
        )
    else:
        print("  witness checks: off - FetchRecords does not verify the hub's audit checkpoints")
    for ds in config.datasets:
        source = f"table {ds.table}" if ds.table else "query"
        groups = ", ".join(ds.groups) or "-"
        rules = ", ".join(sorted({r.group for r in ds.group_rules})) or "-"
        print(
            f"  {ds.name}: {source}; {len(ds.fields)} fields declared, {len(ds.export)} exported; "
            f"identity: {', '.join(c for c, _ in ds.identity) or '-'}; groups: {groups}; group rules: {rules}"
        )
    return 0
