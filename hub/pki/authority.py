"""The private certificate authority: one ECDSA P-256 key and a self-signed root.

ECDSA P-256 with SHA-256 because every TLS stack we meet accepts it for server
and client certificates (gRPC's BoringSSL included; Ed25519 certificates are
not accepted by all TLS 1.2 peers). Extensions follow RFC 5280 section 4.2:
basicConstraints CA (critical, pathLen 0: the root signs leaves only),
keyUsage keyCertSign + cRLSign (critical), subject and authority key ids.

A CA directory holds ``ca.pem`` (share it: it is the trust anchor),
``ca.key.pem`` (0600, keep it offline when not issuing) and ``crl.pem`` (the
signed revocation list, re-published on every revocation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub.pki.errors import PkiError
from hub.pki.pemfiles import load_private_key, private_key_pem, refuse_existing, write_new

CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca.key.pem"
CRL_FILE = "crl.pem"
ORGANIZATION = "pingan-hub"
MAX_CA_DAYS = 20 * 365


@dataclass(frozen=True, slots=True)
class CertificateAuthority:
    """A loaded CA: its directory, root certificate and signing key."""

    directory: Path
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_file(self) -> Path:
        return self.directory / CA_CERT_FILE

    @property
    def key_file(self) -> Path:
        return self.directory / CA_KEY_FILE

    @property
    def crl_file(self) -> Path:
        return self.directory / CRL_FILE


def check_days(days: int, maximum: int, option: str = "--days") -> int:
    if not 1 <= days <= maximum:
        raise PkiError(f"{option} must be between 1 and {maximum}, not {days}")
    return days


def create_ca(
    out_dir: str | Path,
    name: str = "pingan-hub demo CA",
    days: int = 3650,
    *,
    now: datetime | None = None,
) -> CertificateAuthority:
    """Create a new CA in ``out_dir`` (refuses to overwrite one) with an empty CRL."""
    from hub.pki.revocation import write_crl

    directory = Path(out_dir)
    check_days(days, MAX_CA_DAYS)
    name = name.strip()
    if not name or len(name) > 64:
        raise PkiError("--name must be 1-64 characters")
    refuse_existing(directory / CA_CERT_FILE, directory / CA_KEY_FILE, directory / CRL_FILE)

    start = (now or datetime.now(UTC)) - timedelta(minutes=5)  # tolerate small clock skew
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_new(directory / CA_KEY_FILE, private_key_pem(key), 0o600)
    write_new(directory / CA_CERT_FILE, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    ca = CertificateAuthority(directory=directory, certificate=cert, key=key)
    write_crl(ca, revoked={}, now=now)
    return ca


def load_ca(directory: str | Path) -> CertificateAuthority:
    """Load a CA made by :func:`create_ca`; checks the key matches and the root is a CA."""
    directory = Path(directory)
    cert_file = directory / CA_CERT_FILE
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except OSError as exc:
        raise PkiError(
            f"{cert_file}: cannot read the CA certificate ({exc.strerror or exc}); "
            "is --ca the directory made by 'pingan pki init'?"
        ) from None
    except ValueError:
        raise PkiError(f"{cert_file}: not a PEM X.509 certificate") from None
    key = load_private_key(directory / CA_KEY_FILE)
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*fmt) != cert.public_key().public_bytes(*fmt):
        raise PkiError(f"{directory / CA_KEY_FILE}: this key does not belong to {cert_file}")
    try:
        ca_flag = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        ca_flag = False
    if not ca_flag:
        raise PkiError(f"{cert_file}: not a CA certificate (basicConstraints CA is not set)")
    return CertificateAuthority(directory=directory, certificate=cert, key=key)
