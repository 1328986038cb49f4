"""Revoke certificates by re-signing the CA's CRL (RFC 5280 section 5).

gRPC Python cannot load a CRL into its TLS stack in every version, so the list
is enforced in our code: ``pingan.tls.RevocationList`` reads this file, checks
the CA signature and refuses revoked serials. Each revocation re-signs the
whole list with a higher cRLNumber and a fresh nextUpdate; servers pick the new
file up on their next call (it is replaced atomically).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization

from hub.pki.authority import CertificateAuthority
from hub.pki.errors import PkiError
from hub.pki.pemfiles import replace

CRL_VALID_DAYS = 30
"""How long a published list stays current; re-run ``pingan pki crl`` before it lapses."""


@dataclass(frozen=True, slots=True)
class Revocation:
    """The result of :func:`revoke`."""

    serial: int
    already_revoked: bool
    crl_file: Path
    revoked_count: int
    next_update: datetime


def _current(ca: CertificateAuthority) -> tuple[dict[int, datetime], int]:
    """The revoked serials (with dates) and cRLNumber of the CA's current list."""
    if not ca.crl_file.exists():
        return {}, 0
    try:
        crl = x509.load_pem_x509_crl(ca.crl_file.read_bytes())
    except ValueError:
        raise PkiError(f"{ca.crl_file}: not a PEM certificate revocation list") from None
    if not crl.is_signature_valid(ca.certificate.public_key()):  # type: ignore[arg-type]
        raise PkiError(f"{ca.crl_file}: not signed by {ca.cert_file}; refusing to extend it")
    try:
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        number = 0
    return {r.serial_number: r.revocation_date_utc for r in crl}, number


def write_crl(
    ca: CertificateAuthority,
    revoked: Mapping[int, datetime] | None = None,
    *,
    number: int | None = None,
    days: int = CRL_VALID_DAYS,
    now: datetime | None = None,
) -> x509.CertificateRevocationList:
    """Sign and publish ``ca.crl_file``; ``revoked=None`` re-signs the current entries."""
    if revoked is None or number is None:
        current, current_number = _current(ca)
        revoked = current if revoked is None else revoked
        number = current_number + 1 if number is None else number
    moment = now or datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(moment)
        .next_update(moment + timedelta(days=days))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.certificate.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    for serial, when in sorted(revoked.items()):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    crl = builder.sign(ca.key, hashes.SHA256())
    replace(ca.crl_file, crl.public_bytes(serialization.Encoding.PEM))
    return crl


def serial_of(cert_file: str | Path, ca: CertificateAuthority) -> int:
    """The serial of a certificate this CA issued (refuses certificates from elsewhere)."""
    path = Path(cert_file)
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as exc:
        raise PkiError(f"{path}: cannot read the certificate ({exc.strerror or exc})") from None
    except ValueError:
        raise PkiError(f"{path}: not a PEM X.509 certificate") from None
    try:
        cert.verify_directly_issued_by(ca.certificate)
    except (ValueError, TypeError, InvalidSignature):
        raise PkiError(f"{path}: was not issued by the CA in {ca.directory}") from None
    if cert.serial_number == ca.certificate.serial_number:
        raise PkiError(
            f"{path}: is the CA certificate itself; to retire the CA, create a new one with 'pingan pki init'"
        )
    return cert.serial_number


def revoke(
    ca: CertificateAuthority,
    *,
    cert_file: str | Path | None = None,
    serial: int | None = None,
    now: datetime | None = None,
) -> Revocation:
    """Add a certificate (by file, or by serial when the file is lost) to the CA's CRL."""
    if (cert_file is None) == (serial is None):
        raise PkiError("give exactly one of --cert FILE or --serial HEX")
    if cert_file is not None:
        serial = serial_of(cert_file, ca)
    assert serial is not None
    if serial <= 0:
        raise PkiError("--serial must be a positive number (hex, as printed by 'pingan pki issue')")
    current, number = _current(ca)
    moment = now or datetime.now(UTC)
    already = serial in current
    if not already:
        current[serial] = moment
    crl = write_crl(ca, current, number=number + 1, now=moment)
    return Revocation(
        serial=serial,
        already_revoked=already,
        crl_file=ca.crl_file,
        revoked_count=len(current),
        next_update=crl.next_update_utc or moment,
    )
