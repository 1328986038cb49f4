"""gRPC TLS credentials from PEM files: the server demands client certificates, the client presents one."""

from __future__ import annotations

from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

from pingan.tls.errors import TlsConfigError


def read_pem(path: str | Path, what: str) -> bytes:
    """Read a PEM file; ``TlsConfigError`` names the file and what it should have held."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TlsConfigError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    if b"-----BEGIN " not in data:
        raise TlsConfigError(f"{path}: the {what} is not a PEM file")
    return data


def check_key_pair(cert_pem: bytes, key_pem: bytes, cert_file: str | Path, key_file: str | Path) -> None:
    """Fail at start, naming the file, rather than at the first handshake with a cryptic TLS error."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise TlsConfigError(f"{cert_file}: not a PEM X.509 certificate") from None
    try:
        key = load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise TlsConfigError(f"{key_file}: not an unencrypted PEM private key") from None
    fmt = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*fmt) != cert.public_key().public_bytes(*fmt):
        raise TlsConfigError(f"{key_file}: this key does not belong to the certificate {cert_file}")


def server_credentials(
    cert_file: str | Path,
    key_file: str | Path,
    ca_file: str | Path,
    *,
    require_client_auth: bool = True,
) -> grpc.ServerCredentials:
    """Server credentials that demand and verify a client certificate from our CA.

    Use with ``server.add_secure_port(address, server_credentials(...))`` on both
    ``grpc.server`` and ``grpc.aio.server``. Callers without a certificate, with
    one from another CA, or with an expired one fail the handshake.
    ``require_client_auth=False`` (the hub's ``[tls] require_client_cert = false``)
    gives server authentication and encryption only: gRPC then does not even
    request a client certificate, so :func:`peer_identity` answers
    UNAUTHENTICATED for every caller and tokens alone say who is calling.
    """
    cert, key = read_pem(cert_file, "certificate"), read_pem(key_file, "private key")
    check_key_pair(cert, key, cert_file, key_file)
    ca = read_pem(ca_file, "CA certificate")
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=ca, require_client_auth=require_client_auth
    )


def channel_credentials(
    ca_file: str | Path, cert_file: str | Path, key_file: str | Path
) -> grpc.ChannelCredentials:
    """Client credentials: trust only our CA for the server, present our own certificate.

    Use with ``grpc.secure_channel(target, channel_credentials(...))`` (or
    ``grpc.aio.secure_channel``). The server's certificate must name the target
    host in its SAN (DNS or IP), which ``pingan pki issue --dns/--ip`` provides.
    """
    cert, key = read_pem(cert_file, "certificate"), read_pem(key_file, "private key")
    check_key_pair(cert, key, cert_file, key_file)
    ca = read_pem(ca_file, "CA certificate")
    return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
