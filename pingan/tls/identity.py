"""Who is on the other end of a verified connection, and whether they may call this endpoint.

The TLS handshake has already checked the chain against our CA (RFC 5280
section 6); here the identity is read from the certificate (subject ``OU``/``CN``
and SAN URI ``spiffe://pingan/<role>/<name>`` must agree), its serial checked
against the revocation list, and its role against the endpoint's.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection, Container, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import grpc
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pingan.serving import StatusError
from pingan.tls.names import NAME_PATTERN, ROLES, SPIFFE_PATTERN, TRUST_DOMAIN

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PeerIdentity:
    """Who is on the other end of a verified TLS connection."""

    role: str
    name: str
    serial: int
    not_after: datetime
    client_auth: bool

    @property
    def spiffe_id(self) -> str:
        return f"spiffe://{TRUST_DOMAIN}/{self.role}/{self.name}"

    def __str__(self) -> str:
        return f"{self.role}/{self.name} (serial {self.serial:x})"


def _unauthenticated(message: str) -> StatusError:
    return StatusError(grpc.StatusCode.UNAUTHENTICATED, message)


def _first(values: Iterable[bytes] | None) -> bytes | None:
    for value in values or ():
        return value
    return None


def identity_from_certificate(cert: x509.Certificate) -> PeerIdentity:
    """Read role and name from a certificate issued by ``pingan pki issue``.

    Raises ``StatusError(UNAUTHENTICATED)`` when the certificate does not carry a
    consistent pingan identity (SAN URI and subject OU/CN must agree).
    """
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    ours = [m for m in (SPIFFE_PATTERN.match(u) for u in uris) if m and m["domain"] == TRUST_DOMAIN]
    if len(ours) != 1:
        raise _unauthenticated(
            "the certificate carries no single pingan identity "
            "(SAN URI spiffe://pingan/<role>/<name>); use a certificate from 'pingan pki issue'"
        )
    role, name = ours[0]["role"], ours[0]["name"]
    ou = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    cn = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if ou != [role] or cn != [name] or role not in ROLES or not NAME_PATTERN.match(name) or ".." in name:
        raise _unauthenticated(
            "the certificate's subject (OU, CN) does not match its SAN identity; "
            "use a certificate from 'pingan pki issue'"
        )
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        client_auth = ExtendedKeyUsageOID.CLIENT_AUTH in eku
    except x509.ExtensionNotFound:
        client_auth = False
    return PeerIdentity(
        role=role,
        name=name,
        serial=cert.serial_number,
        not_after=cert.not_valid_after_utc,
        client_auth=client_auth,
    )


def peer_identity(context: Any) -> PeerIdentity:
    """The verified peer of a gRPC call (sync or ``grpc.aio`` servicer context).

    Reads ``x509_pem_cert`` from ``context.auth_context()``, which gRPC fills only
    after the handshake verified the chain against the server's CA. A call over
    a plaintext port, or without a client certificate, is UNAUTHENTICATED.
    """
    auth = context.auth_context() or {}
    if _first(auth.get("transport_security_type")) != b"ssl":
        raise _unauthenticated("this endpoint requires mutual TLS; connect with a client certificate")
    pem = _first(auth.get("x509_pem_cert"))
    if pem is None:
        raise _unauthenticated("no client certificate was presented; connect with a certificate from our CA")
    return _identity_of_pem(pem)


@functools.lru_cache(maxsize=1024)
def _identity_of_pem(pem: bytes) -> PeerIdentity:
    # A peer presents the same certificate on every call of a connection; parsing it
    # costs tens of microseconds, the cached answer (a frozen value) almost nothing.
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise _unauthenticated("the client certificate could not be read") from None
    return identity_from_certificate(cert)


def require_peer(
    context: Any,
    roles: Collection[str],
    revoked_serials: Container[int] | None = None,
) -> PeerIdentity:
    """Return the peer if its role is in ``roles``, it may act as a client and is not revoked.

    ``revoked_serials`` is usually a :class:`RevocationList`; pass ``None`` only
    where no CRL is deployed (the peer is then trusted until its certificate
    expires). Refusals are ``StatusError``: UNAUTHENTICATED when there is no
    usable identity, PERMISSION_DENIED for a wrong role or a revoked certificate.
    """
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; roles are {', '.join(ROLES)}")
    peer = peer_identity(context)
    if revoked_serials is not None and peer.serial in revoked_serials:
        log.warning("refused revoked certificate %s", peer)
        raise StatusError(
            grpc.StatusCode.PERMISSION_DENIED,
            f"certificate serial {peer.serial:x} has been revoked; ask the hub operator for a new one",
        )
    if peer.role not in roles:
        raise StatusError(
            grpc.StatusCode.PERMISSION_DENIED,
            f"this endpoint serves {' or '.join(sorted(roles))} certificates, not {peer.role}",
        )
    if not peer.client_auth:
        raise StatusError(
            grpc.StatusCode.PERMISSION_DENIED,
            f"the {peer.role} certificate is not valid for client authentication (extended key usage)",
        )
    return peer
