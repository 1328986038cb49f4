"""The example adapter configurations validate against freshly generated databases."""

from __future__ import annotations

import sqlite3

import pytest

from adapters.config import load_config
from adapters.synth.departments import all_departments
from adapters.synth.examples import EXAMPLES_DIR, render
from adapters.synth.generate import SynthResult

SENSITIVE_GROUPS = {
    "community_corrections", "released_prisoner", "severe_mental_disorder", "drug_involved", "minor",
    "elderly_alone", "domestic_violence_victim", "whistleblower",
}
DEPARTMENTS = [m.SCHEMA.name for m in all_departments()]


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_example_is_in_sync_with_the_generator(department: str) -> None:
    schema = next(m.SCHEMA for m in all_departments() if m.SCHEMA.name == department)
    path = EXAMPLES_DIR / f"{department}.toml"
    assert path.read_text(encoding="utf-8") == render(schema), (
        f"{path} is stale; run `python -m adapters.synth.examples`")


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_example_config_loads_against_generated_data(
    department: str, synth_set: SynthResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINGAN_DATA_DIR", str(synth_set.out_dir))
    monkeypatch.setenv("PINGAN_LINKAGE_SECRET", "synth-test-secret-" + "0" * 32)
    config = load_config(EXAMPLES_DIR / f"{department}.toml")  # runs the adapter's start-up schema checks
    assert config.department == department
    conn = sqlite3.connect(synth_set.out_dir / f"{department}.db")
    try:
        for ds in config.datasets:
            sql = ds.query or f"SELECT * FROM {ds.table}"
            cursor = conn.execute(f"SELECT * FROM ({sql}) LIMIT 1")
            present = [d[0] for d in cursor.description]
            declared = {ds.id_column, ds.updated_at_column, *ds.unexposed}
            declared |= {c for _, c in ds.identity} | {f.column for f in ds.fields}
            if ds.jurisdiction_column:
                declared.add(ds.jurisdiction_column)
            assert set(present) == declared, (ds.name, set(present) ^ declared)
            assert set(ds.groups) <= SENSITIVE_GROUPS
            assert all(f.grade for f in ds.fields)
    finally:
        conn.close()


def test_examples_exist_for_every_department() -> None:
    assert sorted(p.stem for p in EXAMPLES_DIR.glob("*.toml")) == sorted(DEPARTMENTS)
