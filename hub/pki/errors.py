"""Why a PKI operation (create CA, issue, revoke) could not be done."""

from __future__ import annotations

from hub.errors import HubError


class PkiError(HubError):
    """A CA directory, certificate or argument is unusable; the message names the file or option."""
