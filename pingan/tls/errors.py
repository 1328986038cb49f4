"""The error type of ``pingan.tls``."""

from __future__ import annotations


class TlsConfigError(Exception):
    """A TLS file (certificate, key, CA, CRL) is missing or unusable; the message names the file."""


class TlsProbeError(Exception):
    """A server's certificate could not be read or verified (``pingan.tls.probe``); the message names the address.

    ``unreachable`` is true when no TLS conversation took place (nothing listening,
    timeout, bad address): the server is down, not suspect.
    """

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable
