"""The alerts package's error type."""

from __future__ import annotations

from hub.errors import HubError


class AlertError(HubError):
    """An alert request the hub cannot serve; the message is safe to show the caller."""
