"""Which certificate a TLS server presents, read by a handshake of our own.

gRPC Python verifies a server's chain and host name but never shows the client the
certificate (https://github.com/grpc/grpc/issues/7710 covers only the server side),
so a client cannot look the server's serial number up in the CA's CRL (RFC 5280
section 5) on the gRPC connection itself. :func:`presented_certificate` opens a
separate TLS connection to the same address with the same trust (our CA only), the
same client certificate, the same expected name (RFC 6125, as
:func:`pingan.tls.expect_server` asks of gRPC) and ALPN ``h2`` (RFC 7540 section
3.3), completes the handshake, and returns the leaf certificate the server sent.
The connection is closed before any HTTP/2 frame: the server sees a client that
went away.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

from cryptography import x509

from pingan.tls.credentials import check_key_pair, read_pem
from pingan.tls.errors import TlsConfigError, TlsProbeError


def client_context(ca_file: str | Path, cert_file: str | Path, key_file: str | Path) -> ssl.SSLContext:
    """A TLS client context trusting only ``ca_file`` and presenting ``cert_file``/``key_file``.

    ``TlsConfigError`` names a missing or unusable file, as ``channel_credentials`` does.
    """
    cert, key = read_pem(cert_file, "certificate"), read_pem(key_file, "private key")
    check_key_pair(cert, key, cert_file, key_file)
    read_pem(ca_file, "CA certificate")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verify_mode CERT_REQUIRED, check_hostname on
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_verify_locations(cafile=str(ca_file))
    except ssl.SSLError as exc:
        raise TlsConfigError(f"{ca_file}: not a usable CA certificate ({exc.reason or exc})") from None
    try:
        context.load_cert_chain(str(cert_file), str(key_file))
    except ssl.SSLError as exc:
        raise TlsConfigError(f"{cert_file}: not usable with {key_file} ({exc.reason or exc})") from None
    context.set_alpn_protocols(["h2"])
    return context


def split_address(address: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or gRPC's ``dns:``/``ipv4:``/``ipv6:`` forms -> (host, port)."""
    target = address
    for prefix in ("dns:///", "dns:", "ipv4:", "ipv6:"):
        if target.startswith(prefix):
            target = target[len(prefix) :]
            break
    host, sep, port = target.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TlsProbeError(f"{address}: not a host:port address, cannot check its certificate", unreachable=True)
    return host, int(port)


def presented_certificate(
    address: str, context: ssl.SSLContext, server_name: str, timeout: float
) -> x509.Certificate:
    """The leaf certificate of the server at ``address``, verified against ``context``'s CA as ``server_name``.

    Raises ``TlsProbeError`` (the message names the address and what failed) when the
    server cannot be reached within ``timeout`` seconds, the handshake fails, or the
    certificate does not chain to our CA or does not name ``server_name``.
    """
    host, port = split_address(address)
    try:
        with socket.create_connection((host, port), timeout=max(timeout, 0.001)) as raw:
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                der = tls.getpeercert(binary_form=True)
    except ssl.SSLCertVerificationError as exc:
        raise TlsProbeError(
            f"{address}: the server's certificate is not acceptable as {server_name}: {exc.verify_message}"
        ) from None
    except ssl.SSLError as exc:
        raise TlsProbeError(f"{address}: TLS handshake failed: {exc.reason or exc}") from None
    except TimeoutError:
        raise TlsProbeError(f"{address}: no TLS handshake within {timeout:.3f} s", unreachable=True) from None
    except OSError as exc:
        raise TlsProbeError(f"{address}: cannot connect ({exc.strerror or exc})", unreachable=True) from None
    if not der:
        raise TlsProbeError(f"{address}: the server sent no certificate")
    return x509.load_der_x509_certificate(der)
