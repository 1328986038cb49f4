"""The CA's signed revocation list, enforced in our code (gRPC Python cannot load a CRL).

RFC 5280 section 5 (CRL format) and 6.3 (use): the list must verify against
the CA and be current; otherwise every certificate counts as revoked.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Container
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from pingan.tls.credentials import read_pem
from pingan.tls.errors import TlsConfigError

log = logging.getLogger(__name__)


class RevocationList(Container[int]):
    """The CA's signed CRL as a set of revoked serial numbers, reloaded when the file changes.

    ``serial in crl`` is what :func:`require_peer` asks. Fail closed (RFC 5280
    section 6.3): if the file disappears, stops verifying against the CA, or is
    past its ``nextUpdate``, every serial counts as revoked until a good list is
    back (``pingan pki crl`` re-signs a fresh one). Thread-safe; cheap per call
    (one ``stat``).
    """

    def __init__(self, crl_file: str | Path, ca_file: str | Path) -> None:
        self.crl_file = Path(crl_file)
        self.ca_file = Path(ca_file)
        try:
            self._ca = x509.load_pem_x509_certificate(read_pem(ca_file, "CA certificate"))
        except ValueError:
            raise TlsConfigError(f"{ca_file}: not a PEM X.509 certificate") from None
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._serials: frozenset[int] = frozenset()
        self._next_update: datetime | None = None
        self._problem: str | None = None
        self._load(strict=True)

    @property
    def serials(self) -> frozenset[int]:
        self._refresh()
        return self._serials

    @property
    def problem(self) -> str | None:
        """Why the list cannot be trusted right now (then everything counts as revoked), or None."""
        self._refresh()
        if self._problem is None and self._next_update is not None and _now() > self._next_update:
            return f"{self.crl_file}: the revocation list expired at {self._next_update.isoformat()}"
        return self._problem

    def __contains__(self, serial: object) -> bool:
        if self.problem is not None:
            return True
        return serial in self._serials

    def _refresh(self) -> None:
        try:
            st = os.stat(self.crl_file)
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._load(strict=False)

    def _load(self, *, strict: bool) -> None:
        try:
            st = os.stat(self.crl_file)
            stamp: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        try:
            if stamp is None:
                raise TlsConfigError(f"{self.crl_file}: cannot read the revocation list (no such file)")
            serials, next_update = read_crl(self.crl_file, self._ca)
        except TlsConfigError as exc:
            if strict:
                raise
            # Remember which file failed so it is read again only once it changes.
            self._stamp, self._problem = stamp, str(exc)
            log.error("revocation list unusable, refusing every certificate until it is fixed: %s", exc)
            return
        self._stamp, self._serials, self._next_update, self._problem = stamp, serials, next_update, None


def read_crl(crl_file: str | Path, ca: x509.Certificate) -> tuple[frozenset[int], datetime | None]:
    """Parse and verify a PEM CRL against the CA; return (revoked serials, nextUpdate)."""
    data = read_pem(crl_file, "revocation list")
    try:
        crl = x509.load_pem_x509_crl(data)
    except ValueError:
        raise TlsConfigError(f"{crl_file}: not a PEM certificate revocation list") from None
    try:
        valid = crl.issuer == ca.subject and crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    except (InvalidSignature, TypeError, ValueError):
        valid = False
    if not valid:
        raise TlsConfigError(f"{crl_file}: the revocation list is not signed by the CA in use")
    return frozenset(r.serial_number for r in crl), crl.next_update_utc


def _now() -> datetime:
    return datetime.now(UTC)
