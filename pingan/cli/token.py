"""``pingan token``: keys and caller tokens (the stand-in for an identity provider).

``keygen`` creates an Ed25519 signing key and adds its public key to a JWKS
file that the hub's ``[auth] jwks_file`` points at; ``issue`` prints a signed,
short-lived caller token; ``verify`` checks a token the way the hub does.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pingan.cli import CommandError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("token", help="generate signing keys and issue caller tokens (EdDSA JWT)")
    sub = parser.add_subparsers(dest="token_command", metavar="SUBCOMMAND", required=True)

    keygen = sub.add_parser("keygen", help="create an Ed25519 signing key and add it to DIR/jwks.json")
    keygen.add_argument(
        "--out", required=True, metavar="DIR", help="directory for the private key PEM and jwks.json"
    )
    keygen.add_argument("--kid", help="key id (default: the RFC 7638 thumbprint of the key)")
    keygen.set_defaults(handler=_keygen)

    issue = sub.add_parser("issue", help="print a signed caller token")
    issue.add_argument("--user", required=True, help="user id (token 'sub')")
    issue.add_argument("--department", required=True, help="caller's department, e.g. justice")
    issue.add_argument(
        "--roles", required=True, help="comma-separated roles, e.g. grid_worker or justice_officer,auditor"
    )
    issue.add_argument(
        "--jurisdiction",
        action="append",
        default=[],
        metavar="PATH",
        help="scope path like TH/S03/C07/G05 (repeatable)",
    )
    issue.add_argument(
        "--ttl", default="15m", help="lifetime such as 90s, 15m, 1h (at most 12h; default 15m)"
    )
    issue.add_argument(
        "--key", required=True, metavar="PRIVATE.pem", help="Ed25519 private key from 'pingan token keygen'"
    )
    issue.add_argument(
        "--kid", help="key id of --key as listed in the JWKS (default: its RFC 7638 thumbprint)"
    )
    issue.add_argument("--issuer", help="token 'iss' (default: [auth] issuer of --config)")
    issue.add_argument("--audience", help="token 'aud' (default: [auth] audience of --config)")
    issue.add_argument(
        "--config",
        metavar="HUB.toml",
        help="take issuer, audience and known roles from this hub configuration",
    )
    issue.set_defaults(handler=_issue)

    verify = sub.add_parser("verify", help="check a token the way the hub does and print its caller")
    verify.add_argument("token", help="the token, or '-' to read it from standard input")
    verify.add_argument(
        "--config", required=True, metavar="HUB.toml", help="hub configuration ([auth] section is used)"
    )
    verify.set_defaults(handler=_verify)


def _keygen(args: argparse.Namespace) -> int:
    from hub.auth.errors import KeySetError
    from hub.auth.keys import generate_signing_key

    try:
        generated = generate_signing_key(args.out, kid=args.kid)
    except (KeySetError, OSError) as exc:
        raise CommandError(str(exc)) from None
    print(f"kid          {generated.kid}")
    print(f"private key  {generated.private_key_file}  (keep secret; only the token issuer needs it)")
    print(f"public JWKS  {generated.jwks_file}  (point the hub's [auth] jwks_file here)")
    return 0


def _auth_from_config(path: str | None) -> Any:
    if path is None:
        return None
    from hub.config import load_hub_config
    from hub.errors import ConfigError

    try:
        return load_hub_config(path, check_files=False).auth
    except ConfigError as exc:
        raise CommandError(str(exc)) from None


def _issue(args: argparse.Namespace) -> int:
    from hub.auth.caller import DEFAULT_KNOWN_ROLES
    from hub.auth.claims import check_user_id
    from hub.auth.errors import AuthError, KeySetError
    from hub.auth.issuer import issue_token, parse_ttl
    from hub.auth.keys import load_private_key, public_jwk

    auth = _auth_from_config(args.config)
    issuer = args.issuer or (auth.issuer if auth else None)
    audience = args.audience or (auth.audience if auth else None)
    if not issuer or not audience:
        raise CommandError("give --issuer and --audience, or --config HUB.toml to take them from [auth]")
    try:
        ttl = parse_ttl(args.ttl)
    except ValueError as exc:
        raise CommandError(f"--ttl: {exc}") from None
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    try:
        check_user_id(args.user)  # the hub's own rule, told against the option that carries it
    except AuthError as exc:
        raise CommandError(f"--user: {exc}") from None
    try:
        key = load_private_key(args.key)
        token = issue_token(
            key,
            kid=args.kid or public_jwk(key.public_key())["kid"],
            issuer=issuer,
            audience=audience,
            user_id=args.user,
            department=args.department,
            roles=roles,
            jurisdictions=args.jurisdiction,
            ttl=ttl,
            known_roles=auth.known_roles if auth else DEFAULT_KNOWN_ROLES,
        )
    except (AuthError, KeySetError) as exc:
        raise CommandError(str(exc)) from None
    print(token)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from hub.auth.errors import AuthError, KeySetError
    from hub.auth.keyset import load_key_set
    from hub.auth.verifier import TokenVerifier, VerifierSettings

    auth = _auth_from_config(args.config)
    token = sys.stdin.read().strip() if args.token == "-" else args.token
    try:
        verifier = TokenVerifier(VerifierSettings.from_config(auth), load_key_set(auth.jwks_file))
        caller = verifier.verify(token)
    except KeySetError as exc:
        raise CommandError(str(exc)) from None
    except AuthError as exc:
        raise CommandError(f"token refused ({exc.reason}): {exc.message}") from None
    print(f"user          {caller.user_id}")
    print(f"department    {caller.department}")
    print(f"roles         {', '.join(caller.roles)}")
    print(f"jurisdictions {', '.join(caller.jurisdictions) or '(none)'}")
    print(f"token id      {caller.token_id}")
    print(f"expires at    {caller.expires_at.isoformat()}")
    return 0
