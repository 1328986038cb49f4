"""One synthetic set (N=5000) generated once for the synth tests that only read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.synth.generate import SynthResult, generate

N_PERSONS = 5000
SEED = 11


@pytest.fixture(scope="session")
def synth_set(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    return generate(N_PERSONS, SEED, tmp_path_factory.mktemp("synth") / "data")


@pytest.fixture(scope="session")
def synth_dir(synth_set: SynthResult) -> Path:
    return synth_set.out_dir
