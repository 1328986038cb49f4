"""Fixtures of the identity tests: a fixed noisy population, encoded once per session."""

from __future__ import annotations

import pytest
from identity_population import TEST_SECRET, Person, SourceRecord, encode, make_persons, make_records

from adapters.linkage.encoder import LinkageEncoder
from pingan.v1 import linkage_pb2


@pytest.fixture(scope="session")
def encoder() -> LinkageEncoder:
    return LinkageEncoder(TEST_SECRET)


@pytest.fixture(scope="session")
def population() -> tuple[list[Person], list[SourceRecord]]:
    persons = make_persons(400, seed=1)
    return persons, make_records(persons, seed=2)


@pytest.fixture(scope="session")
def encoded(
    population: tuple[list[Person], list[SourceRecord]], encoder: LinkageEncoder
) -> dict[str, list[linkage_pb2.LinkageRecord]]:
    return encode(population[1], encoder)
