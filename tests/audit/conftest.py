"""Fixtures for the audit tests."""

from __future__ import annotations

import pytest

from audit.checkpoint import NoteSigner


@pytest.fixture
def signer() -> NoteSigner:
    """A fresh Ed25519 signed-note key for checkpoints."""
    return NoteSigner.generate("pingan-test")
