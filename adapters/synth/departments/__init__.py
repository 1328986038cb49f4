"""One module per department: its own schema (``SCHEMA``) and its rows (``build``).

Every module exposes ``SCHEMA: DepartmentSchema``, ``DATE_FORMAT`` (its own primary
date convention) and ``build(world) -> DepartmentRows``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from types import ModuleType

from adapters.synth.noise import Noise, timestamp
from adapters.synth.population import REFERENCE_DATE, Population


@dataclass(slots=True)
class World:
    """What a department builder reads: the population and its own RNG and noise."""

    population: Population
    rng: random.Random
    noise: Noise


@dataclass(slots=True)
class DepartmentRows:
    """Rows per table, and per base table the true person index of each row (same order)."""

    rows: dict[str, list[tuple[object, ...]]] = field(default_factory=dict)
    owners: dict[str, list[int]] = field(default_factory=dict)

    def add(self, table: str, row: tuple[object, ...], owner: int | None = None) -> None:
        self.rows.setdefault(table, []).append(row)
        if owner is not None:
            self.owners.setdefault(table, []).append(owner)


def updated_at(rng: random.Random, within_days: int = 720) -> str:
    """A last-change time before the reference date."""
    base = dt.datetime.combine(REFERENCE_DATE, dt.time(18, 0))
    return timestamp(base - dt.timedelta(seconds=rng.randrange(within_days * 86400)))


def days_before(rng: random.Random, low: int, high: int) -> dt.date:
    return REFERENCE_DATE - dt.timedelta(days=rng.randint(low, high))


def all_departments() -> list[ModuleType]:
    """The department modules in generation order."""
    from adapters.synth.departments import (
        civil_affairs,
        education,
        grid_office,
        health,
        human_resources,
        justice,
        public_security,
    )

    return [public_security, justice, civil_affairs, health, human_resources, education, grid_office]
