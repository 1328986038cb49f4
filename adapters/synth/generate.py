"""Orchestration: population -> department rows -> SQLite files, ground truth, manifest.

Determinism: every random stream is a ``random.Random`` seeded with a string derived
from the seed and the department name (CPython seeds str via SHA-512, stable across
runs and platforms), the clock is never read, and rows are written in generation
order, so the same seed gives byte-identical rows. Speed: one transaction and one
``executemany`` per table, with ``journal_mode=OFF`` and ``synchronous=OFF`` while
writing (the files are built from scratch; a crash just means generating again).
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from adapters.synth import ground_truth
from adapters.synth.departments import DepartmentRows, World, all_departments
from adapters.synth.errors import SynthError
from adapters.synth.groups import assign_groups
from adapters.synth.noise import Noise
from adapters.synth.places import build_geography
from adapters.synth.population import REFERENCE_DATE, Population, build_population
from adapters.synth.schema import DepartmentSchema

GENERATOR = "pingan-synth"
GENERATOR_VERSION = "1.0"
MAX_PERSONS = 5_000_000
MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class SynthResult:
    """What was written: directory, counts per department and table, ground-truth size."""

    out_dir: Path
    persons: int
    households: int
    tables: dict[str, dict[str, int]]
    ground_truth_records: int
    population: Population


def _rng(seed: int, *parts: str) -> random.Random:
    return random.Random(":".join((GENERATOR, str(seed), *parts)))


def write_database(path: Path, schema: DepartmentSchema, rows: DepartmentRows) -> dict[str, int]:
    """Create ``path`` from scratch with the department's tables and rows."""
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        counts: dict[str, int] = {}
        updated = {d.base_table: d.updated_at_column for d in schema.datasets}
        with conn:
            for table in schema.tables:
                conn.execute(table.ddl())
                data = rows.rows.get(table.name, [])
                marks = ", ".join("?" * len(table.columns))
                conn.executemany(f"INSERT INTO {table.name} VALUES ({marks})", data)
                counts[table.name] = len(data)
                for col in (*table.indexes, *([updated[table.name]] if table.name in updated else [])):
                    conn.execute(f"CREATE INDEX ix_{table.name}_{col} ON {table.name} ({col})")
    finally:
        conn.close()
    return counts


def generate(persons: int, seed: int, out_dir: Path) -> SynthResult:
    """Write ``<department>.db`` for every department, ``ground_truth.csv`` and ``manifest.json``."""
    if persons < 10 or persons > MAX_PERSONS:
        raise SynthError(f"--persons must be between 10 and {MAX_PERSONS}, got {persons}")
    if seed < 0:
        raise SynthError(f"--seed must be a non-negative integer, got {seed}")
    if out_dir.exists() and not out_dir.is_dir():
        raise SynthError(f"output path {out_dir} exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SynthError(f"cannot create output directory {out_dir}: {exc.strerror}") from exc

    world_rng = _rng(seed, "world")
    geography = build_geography(world_rng)
    population = build_population(persons, geography, world_rng)
    assign_groups(population, _rng(seed, "groups"))

    tables: dict[str, dict[str, int]] = {}
    departments_manifest: dict[str, object] = {}
    truth: list[tuple[str, ...]] = []
    for module in all_departments():
        schema: DepartmentSchema = module.SCHEMA
        noise = Noise(_rng(seed, schema.name, "noise"), module.NOISE)
        rows = module.build(World(population, _rng(seed, schema.name), noise))
        try:
            counts = write_database(out_dir / f"{schema.name}.db", schema, rows)
        except sqlite3.Error as exc:
            raise SynthError(f"cannot write {out_dir / (schema.name + '.db')}: {exc}") from exc
        dept_truth = list(ground_truth.truth_rows(schema, rows, population))
        truth.extend(dept_truth)
        tables[schema.name] = counts
        departments_manifest[schema.name] = {
            "database": f"{schema.name}.db",
            "display_name": schema.display_name,
            "tables": counts,
            "datasets": {d.name: sum(1 for r in dept_truth if r[1] == d.name) for d in schema.datasets},
            "noise": dict(sorted(noise.counts.items())),
        }
    n_truth = ground_truth.write(out_dir / ground_truth.FILE_NAME, iter(truth))
    manifest = {
        "generator": GENERATOR,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "persons": persons,
        "households": len(population.households),
        "reference_date": REFERENCE_DATE.isoformat(),
        "ground_truth_records": n_truth,
        "groups": {k: len(v) for k, v in sorted(population.groups.items())},
        "departments": departments_manifest,
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                    encoding="utf-8")
    return SynthResult(out_dir, persons, len(population.households), tables, n_truth, population)
