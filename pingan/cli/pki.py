"""``pingan pki``: the private CA behind mutual TLS (issue 8 item 1).

``init`` creates the CA, ``issue`` a certificate for the hub, an adapter or a
department client, ``revoke`` adds one to the CA's signed CRL, ``crl``
re-signs the list before it lapses and ``show`` says who a certificate names. See docs/security.md, "PKI and mutual TLS".
"""

from __future__ import annotations

import argparse
from typing import Any

from pingan.cli import CommandError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("pki", help="private CA for mutual TLS: create, issue, revoke")
    sub = parser.add_subparsers(dest="pki_command", metavar="SUBCOMMAND", required=True)

    init = sub.add_parser("init", help="create a private CA (ECDSA P-256) in DIR")
    init.add_argument(
        "--out", required=True, metavar="DIR", help="new directory for ca.pem, ca.key.pem, crl.pem"
    )
    init.add_argument("--name", default="pingan-hub demo CA", help="CA common name (default: %(default)s)")
    init.add_argument("--days", type=int, default=3650, help="CA lifetime in days (default: %(default)s)")
    init.set_defaults(handler=_init)

    issue = sub.add_parser("issue", help="issue a certificate and key for the hub, an adapter or a client")
    issue.add_argument("--ca", required=True, metavar="DIR", help="CA directory from 'pingan pki init'")
    issue.add_argument("--name", required=True, help="holder name, e.g. hub, justice, civil-affairs-app")
    issue.add_argument(
        "--role",
        required=True,
        choices=("hub", "adapter", "client"),
        help="hub: server and client; adapter: server; client: department system calling the hub",
    )
    issue.add_argument(
        "--dns", action="append", default=[], metavar="HOST", help="server host name for the SAN (repeatable)"
    )
    issue.add_argument(
        "--ip", action="append", default=[], metavar="ADDR", help="server IP address for the SAN (repeatable)"
    )
    issue.add_argument("--days", type=int, default=365, help="lifetime in days (default: %(default)s)")
    issue.add_argument(
        "--out", required=True, metavar="DIR", help="directory for NAME.pem, NAME.key.pem and ca.pem"
    )
    issue.set_defaults(handler=_issue)

    revoke = sub.add_parser("revoke", help="revoke a certificate (adds its serial to DIR/crl.pem)")
    revoke.add_argument("--ca", required=True, metavar="DIR", help="CA directory from 'pingan pki init'")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--cert", metavar="FILE", help="the certificate to revoke")
    which.add_argument("--serial", metavar="HEX", help="serial number in hex, when the file is lost")
    revoke.set_defaults(handler=_revoke)

    crl = sub.add_parser("crl", help="re-sign DIR/crl.pem with a fresh validity (run before it lapses)")
    crl.add_argument("--ca", required=True, metavar="DIR", help="CA directory from 'pingan pki init'")
    crl.set_defaults(handler=_crl)

    show = sub.add_parser("show", help="print a certificate's identity, validity and revocation status")
    show.add_argument("--cert", required=True, metavar="FILE", help="certificate to inspect")
    show.add_argument("--ca", metavar="DIR", help="CA directory: also check issuer and revocation")
    show.set_defaults(handler=_show)


def _init(args: argparse.Namespace) -> int:
    from hub.pki import PkiError, create_ca

    try:
        ca = create_ca(args.out, name=args.name, days=args.days)
    except (PkiError, OSError) as exc:
        raise CommandError(str(exc)) from None
    print(f"CA certificate  {ca.cert_file}  (trust anchor: give it to every server and client)")
    print(f"CA private key  {ca.key_file}  (0600; keep it offline when not issuing)")
    print(f"revocation list {ca.crl_file}  (servers read it; refresh with 'pingan pki crl')")
    print(f"expires         {ca.certificate.not_valid_after_utc.isoformat()}")
    return 0


def _issue(args: argparse.Namespace) -> int:
    from hub.pki import PkiError, issue_certificate, load_ca

    try:
        ca = load_ca(args.ca)
        issued = issue_certificate(
            ca,
            name=args.name,
            role=args.role,
            out_dir=args.out,
            dns_names=args.dns,
            ip_addresses=args.ip,
            days=args.days,
        )
    except (PkiError, OSError) as exc:
        raise CommandError(str(exc)) from None
    print(f"identity     spiffe://pingan/{issued.role}/{issued.name}")
    print(f"serial       {issued.serial:x}")
    print(f"certificate  {issued.cert_file}")
    print(f"private key  {issued.key_file}  (0600)")
    print(f"trust anchor {issued.ca_file}")
    if issued.dns_names or issued.ip_addresses:
        print(f"server names {', '.join([*issued.dns_names, *issued.ip_addresses])}")
    print(f"expires      {issued.not_after.isoformat()}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from hub.pki import PkiError, load_ca, revoke

    serial = None
    if args.serial is not None:
        try:
            serial = int(args.serial.replace(":", ""), 16)
        except ValueError:
            raise CommandError(f"--serial {args.serial!r} is not a hexadecimal number") from None
    try:
        result = revoke(load_ca(args.ca), cert_file=args.cert, serial=serial)
    except (PkiError, OSError) as exc:
        raise CommandError(str(exc)) from None
    state = "was already revoked" if result.already_revoked else "revoked"
    print(f"serial {result.serial:x} {state}; {result.crl_file} lists {result.revoked_count} certificate(s)")
    print(f"the list is current until {result.next_update.isoformat()}; servers reload it on their next call")
    return 0


def _crl(args: argparse.Namespace) -> int:
    from hub.pki import PkiError, load_ca, write_crl

    try:
        ca = load_ca(args.ca)
        crl = write_crl(ca)
    except (PkiError, OSError) as exc:
        raise CommandError(str(exc)) from None
    print(f"{ca.crl_file} re-signed: {len(crl)} revoked, current until {crl.next_update_utc}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime
    from pathlib import Path

    from cryptography import x509

    from pingan.serving import StatusError
    from pingan.tls import TlsConfigError, identity_from_certificate, read_crl

    path = Path(args.cert)
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as exc:
        raise CommandError(f"{path}: cannot read the certificate ({exc.strerror or exc})") from None
    except ValueError:
        raise CommandError(f"{path}: not a PEM X.509 certificate") from None
    try:
        peer = identity_from_certificate(cert)
    except StatusError as exc:
        raise CommandError(f"{path}: {exc.message}") from None
    now = datetime.now(UTC)
    expired = cert.not_valid_after_utc < now
    print(f"identity     {peer.spiffe_id}")
    print(f"serial       {peer.serial:x}")
    print(f"valid        {cert.not_valid_before_utc.isoformat()} .. {cert.not_valid_after_utc.isoformat()}")
    status = 0
    if expired:
        print("status       EXPIRED")
        status = 1
    if args.ca:
        from hub.pki import PkiError, load_ca
        from hub.pki.revocation import serial_of

        try:
            ca = load_ca(args.ca)
            serial_of(path, ca)
            revoked, _ = read_crl(ca.crl_file, ca.certificate)
        except (PkiError, TlsConfigError) as exc:
            raise CommandError(str(exc)) from None
        if peer.serial in revoked:
            print(f"status       REVOKED (listed in {ca.crl_file})")
            status = 1
        elif not expired:
            print(f"status       valid, issued by {ca.cert_file}, not revoked")
    return status
