"""The error types of the adapter package.

A configuration that cannot be served is a :class:`ConfigError` whose message
names the file and the key (and, for schema problems, the dataset and column),
so ``pingan adapter serve`` can refuse to start with one actionable line.
"""

from __future__ import annotations


class AdapterError(Exception):
    """Base class of errors raised by the adapter package."""


class ConfigError(AdapterError):
    """The adapter configuration is malformed, incomplete or does not match the database.

    The message always starts with the configuration file's path and names the
    offending key; it never contains a secret or a record's identifier.
    """


class WatermarkError(AdapterError):
    """A StreamLinkage watermark that this adapter did not issue or cannot read."""
