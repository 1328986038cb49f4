"""Mutual TLS for every pingan gRPC server and client: credentials, peer identity, revocation.

Hub and adapters both import this (neither may import the other); issuing
certificates is the hub operator's job and lives in ``hub.pki``.

Who a peer is comes from its certificate, which the TLS handshake has already
checked against our private CA (chain, signature, validity period: RFC 5280
section 6). Our certificates name the peer twice: subject ``OU=<role>,
CN=<name>`` and a SAN URI ``spiffe://pingan/<role>/<name>`` (SPIFFE X509-SVID
style); :func:`peer_identity` requires both to agree. gRPC Python cannot check a
CRL itself, so :func:`require_peer` consults a :class:`RevocationList` (the CA's
signed ``crl.pem``, RFC 5280 section 5) by serial number, and fails closed when
that list is missing, forged or out of date. Nor does it show a client the server's
certificate, so :func:`presented_certificate` reads it with a handshake of its own
(the hub checks its adapters' serials that way).
"""

from pingan.tls.credentials import channel_credentials, server_credentials
from pingan.tls.errors import TlsConfigError, TlsProbeError
from pingan.tls.identity import PeerIdentity, identity_from_certificate, peer_identity, require_peer
from pingan.tls.interceptors import AioRequirePeerInterceptor, RequirePeerInterceptor
from pingan.tls.names import (
    IDENTITY_DOMAIN,
    ROLES,
    TRUST_DOMAIN,
    check_name,
    check_role,
    expect_server,
    identity_host,
    spiffe_id,
)
from pingan.tls.probe import client_context, presented_certificate
from pingan.tls.revocation import RevocationList, read_crl

__all__ = [
    "IDENTITY_DOMAIN",
    "ROLES",
    "TRUST_DOMAIN",
    "AioRequirePeerInterceptor",
    "PeerIdentity",
    "RequirePeerInterceptor",
    "RevocationList",
    "TlsConfigError",
    "TlsProbeError",
    "channel_credentials",
    "check_name",
    "client_context",
    "check_role",
    "expect_server",
    "identity_from_certificate",
    "identity_host",
    "peer_identity",
    "presented_certificate",
    "read_crl",
    "require_peer",
    "server_credentials",
    "spiffe_id",
]
