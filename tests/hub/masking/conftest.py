"""One real Presidio masker per test session (building it takes about a second)."""

from __future__ import annotations

import pytest

from hub.masking.freetext import FreeTextMasker, default_masker


@pytest.fixture(scope="session")
def masker() -> FreeTextMasker:
    return default_masker()
