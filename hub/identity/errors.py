"""Errors of the identity package."""

from __future__ import annotations

from hub.errors import HubError


class IdentityError(HubError):
    """Identity resolution failed for a reason the operator can act on."""


class BatchRejected(IdentityError):
    """A linkage batch failed validation and was not applied; the watermark is kept.

    The message says which record and what is wrong (scheme parameter, bit
    length, missing field); it never contains an encoding.
    """
