"""The error type of ``pingan.tls``."""

from __future__ import annotations


class TlsConfigError(Exception):
    """A TLS file (certificate, key, CA, CRL) is missing or unusable; the message names the file."""
