"""Issue a leaf certificate for the hub, an adapter or a department client.

The holder's identity is written twice so any peer can read it: subject
``O=pingan-hub, OU=<role>, CN=<name>`` and SAN URI ``spiffe://pingan/<role>/<name>``
(``pingan.tls.peer_identity`` requires both to agree). Extended key usage
follows the role (RFC 5280 section 4.2.1.12): the hub is a server to callers and
a client to adapters (serverAuth + clientAuth), an adapter only serves
(serverAuth), a client only calls (clientAuth). Servers get SAN DNS/IP entries
for hostname verification (RFC 6125), plus ``<name>.<role>.pingan.internal`` so
a client can demand a particular server (``pingan.tls.expect_server``); a leaf
never outlives its CA.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.pki.authority import CA_CERT_FILE, ORGANIZATION, CertificateAuthority, check_days
from hub.pki.errors import PkiError
from hub.pki.pemfiles import private_key_pem, refuse_existing, write_new
from pingan.tls import check_name, check_role, identity_host, spiffe_id

MAX_LEAF_DAYS = 825  # the CA/Browser Forum's former ceiling; rotate well before

KEY_USAGES: dict[str, tuple[x509.ObjectIdentifier, ...]] = {
    "hub": (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
    "adapter": (ExtendedKeyUsageOID.SERVER_AUTH,),
    "client": (ExtendedKeyUsageOID.CLIENT_AUTH,),
}
SERVER_ROLES = frozenset({"hub", "adapter"})
DEFAULT_SERVER_DNS = ("localhost",)
DEFAULT_SERVER_IPS = ("127.0.0.1",)
_HOST = re.compile(
    r"^(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """What :func:`issue_certificate` wrote."""

    role: str
    name: str
    serial: int
    not_after: datetime
    cert_file: Path
    key_file: Path
    ca_file: Path
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]


def issue_certificate(
    ca: CertificateAuthority,
    *,
    name: str,
    role: str,
    out_dir: str | Path,
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    days: int = 365,
    now: datetime | None = None,
) -> IssuedCertificate:
    """Issue ``<out_dir>/<name>.pem`` and ``<name>.key.pem`` (0600), plus ``ca.pem`` to trust.

    A server role with neither DNS names nor IPs gets ``localhost`` and
    ``127.0.0.1`` (the demo and tests); production servers should name their host.
    ``now`` exists so tests can issue already-expired certificates.
    """
    try:
        check_role(role)
        check_name(name)
    except ValueError as exc:
        raise PkiError(str(exc)) from None
    check_days(days, MAX_LEAF_DAYS)
    if role in SERVER_ROLES and not dns_names and not ip_addresses:
        dns_names, ip_addresses = DEFAULT_SERVER_DNS, DEFAULT_SERVER_IPS
    ips = []
    for raw in ip_addresses:
        try:
            ips.append(ipaddress.ip_address(raw))
        except ValueError:
            raise PkiError(f"--ip {raw!r} is not an IPv4 or IPv6 address") from None
    for dns in dns_names:
        if not _HOST.match(dns) or len(dns) > 253:
            raise PkiError(f"--dns {dns!r} is not a host name (letters, digits, '-', dot-separated)")

    start = (now or datetime.now(UTC)) - timedelta(minutes=5)
    end = min(start + timedelta(days=days), ca.certificate.not_valid_after_utc)
    if end <= start:
        raise PkiError(f"{ca.cert_file}: the CA has expired; create a new one with 'pingan pki init'")

    out = Path(out_dir)
    cert_file, key_file, ca_copy = out / f"{name}.pem", out / f"{name}.key.pem", out / CA_CERT_FILE
    refuse_existing(cert_file, key_file)
    ca_pem = ca.certificate.public_bytes(serialization.Encoding.PEM)
    if ca_copy.exists() and ca_copy.read_bytes() != ca_pem:
        raise PkiError(f"{ca_copy} holds a different CA certificate; use another --out directory")

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    san: list[x509.GeneralName] = [x509.UniformResourceIdentifier(spiffe_id(role, name))]
    san += [x509.DNSName(d) for d in dns_names]
    if role in SERVER_ROLES:
        san.append(x509.DNSName(identity_host(role, name)))
    san += [x509.IPAddress(ip) for ip in ips]
    serial = x509.random_serial_number()
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
                    x509.NameAttribute(NameOID.COMMON_NAME, name),
                ]
            )
        )
        .issuer_name(ca.certificate.subject)
        .public_key(public)
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(list(KEY_USAGES[role])), critical=False)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.certificate.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    write_new(key_file, private_key_pem(key), 0o600)
    write_new(cert_file, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    if not ca_copy.exists():
        write_new(ca_copy, ca_pem, 0o644)
    return IssuedCertificate(
        role=role,
        name=name,
        serial=serial,
        not_after=end,
        cert_file=cert_file,
        key_file=key_file,
        ca_file=ca_copy,
        dns_names=tuple(dns_names),
        ip_addresses=tuple(str(ip) for ip in ips),
    )
