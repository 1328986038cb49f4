"""Hub-level error base and the configuration error.

Every package of the hub raises its own subclass of :class:`HubError`, so the
composition root can tell "our" failures (with a message safe to show) from bugs.
"""

from __future__ import annotations

from pathlib import Path


class HubError(Exception):
    """Base of every error the hub raises on purpose; its message is safe to show."""


class ConfigError(HubError):
    """The hub configuration is unusable; names the file and the offending key.

    The message never repeats a configured value (values may be secrets or come
    from the environment), only where it is and what is expected.
    """

    def __init__(self, path: str | Path, key: str, message: str) -> None:
        self.path = str(path)
        self.key = key
        self.message = message
        super().__init__(f"{self.path}: {key}: {message}" if key else f"{self.path}: {message}")
