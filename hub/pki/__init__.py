"""The hub operator's private CA: create it, issue certificates, revoke them (issue 8 item 1).

Only the hub side issues, so this lives in ``hub``; what every server and client
needs to *use* the certificates (credentials, peer identity, CRL checks) is in
``pingan.tls``, which adapters may import too.
"""

from hub.pki.authority import CertificateAuthority, create_ca, load_ca
from hub.pki.errors import PkiError
from hub.pki.leaf import IssuedCertificate, issue_certificate
from hub.pki.revocation import Revocation, revoke, write_crl

__all__ = [
    "CertificateAuthority",
    "IssuedCertificate",
    "PkiError",
    "Revocation",
    "create_ca",
    "issue_certificate",
    "load_ca",
    "revoke",
    "write_crl",
]
