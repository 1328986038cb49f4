"""The error type of the adapter-side linkage package."""

from __future__ import annotations


class LinkageError(Exception):
    """Linkage cannot proceed (missing or weak secret, bad scheme); the message says what to fix.

    Messages name files, variables and parameters, never an identifier value.
    """
