"""The channel a command-line tool opens to a running hub: plaintext, TLS, or mutual TLS.

A hub with ``[tls]`` requires a client certificate by default (``require_client_cert``),
so an auditor's or policy owner's tool presents one (``pingan pki issue --role client``)
besides the person's bearer token (docs/security.md). Shared by ``pingan audit`` and
``pingan policy``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pingan.cli import CommandError


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``--token``, ``--ca``, ``--client-cert`` and ``--client-key`` for ``--hub``."""
    p.add_argument("--token", help="with --hub: your bearer token, sent as 'authorization' metadata")
    p.add_argument("--ca", type=Path, help="with --hub: PEM root certificate for TLS to the hub (plaintext if omitted)")
    p.add_argument(
        "--client-cert", type=Path, metavar="FILE",
        help="with --ca: your certificate (PEM), for a hub that requires client certificates "
        "([tls] require_client_cert, the default); from 'pingan pki issue --role client'",
    )
    p.add_argument("--client-key", type=Path, metavar="FILE", help="with --client-cert: its private key (PEM)")


def open_channel(args: argparse.Namespace, target: str) -> Any:
    """A ``grpc.Channel`` to ``target`` as the arguments of :func:`add_arguments` ask
    (CommandError when they conflict or a file is unusable)."""
    import grpc  # imported here: most commands never dial a hub

    from pingan.tls import TlsConfigError, channel_credentials

    if (args.client_cert is None) != (args.client_key is None):
        raise CommandError("--client-cert and --client-key go together: give both, or neither")
    if args.client_cert is not None and not args.ca:
        raise CommandError("--client-cert needs --ca (the CA that issued the hub's certificate)")
    if not args.ca:
        return grpc.insecure_channel(target)
    try:
        if args.client_cert is not None:
            creds = channel_credentials(args.ca, args.client_cert, args.client_key)
        else:
            creds = grpc.ssl_channel_credentials(root_certificates=args.ca.read_bytes())
    except OSError as exc:
        raise CommandError(f"{args.ca}: cannot read CA certificate ({exc.strerror})") from exc
    except TlsConfigError as exc:
        raise CommandError(str(exc)) from exc
    return grpc.secure_channel(target, creds)


def token_metadata(args: argparse.Namespace) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {args.token}")] if args.token else []
