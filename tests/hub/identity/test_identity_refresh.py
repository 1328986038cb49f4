"""Replicas and workers share one identity index but only one of them links: the others
must see a new resolution (IdentityIndex.refresh), or a new resident is NOT_FOUND there."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from adapters.linkage.encoder import LinkageEncoder
from adapters.linkage.fields import IdentityFields
from adapters.linkage.idnumber import check_character
from hub.identity.index import IdentityIndex
from pingan.v1 import linkage_pb2


def _newcomer(encoder: LinkageEncoder, id_number: str) -> linkage_pb2.LinkageRecord:
    return linkage_pb2.LinkageRecord(
        dataset="people",
        local_record_id="newcomer-1",
        encoding=encoder.encode(
            IdentityFields(
                name="欧阳明",
                id_number=id_number,
                birth_date="1991-04-05",
                residence_address="西湖区文三路9号",
            )
        ),
        jurisdiction="西湖区/文新街道/1社区/3网格",
    )


FIRST17 = "33010619910405003"


def _query(encoder: LinkageEncoder, first17: str) -> linkage_pb2.LinkageEncoding:
    return encoder.encode_query(linkage_pb2.IdentityQuery(id_number=first17 + check_character(first17)))


def _population(database_url: str, encoded: dict[str, list[linkage_pb2.LinkageRecord]]) -> IdentityIndex:
    """An index holding the test population's batches, not yet resolved."""
    index = IdentityIndex(database_url)
    for department, batch in encoded.items():
        index.apply_batch(department, batch, "w1")
    return index


def _linked(
    database_url: str, encoded: dict[str, list[linkage_pb2.LinkageRecord]], encoder: LinkageEncoder
) -> IdentityIndex:
    """The test population plus one newcomer (ID number FIRST17 + check digit), resolved."""
    index = _population(database_url, encoded)
    index.apply_batch("health", [_newcomer(encoder, FIRST17 + check_character(FIRST17))], "w2")
    index.resolve()
    return index


def test_a_resolution_by_another_process_is_picked_up_by_refresh(
    database_url: str, encoded: dict[str, list[linkage_pb2.LinkageRecord]], encoder: LinkageEncoder
) -> None:
    linker = _population(database_url, encoded)
    linker.resolve()
    replica = IdentityIndex(database_url)  # another worker: loads what is stored on first use
    first17 = FIRST17
    query = _query(encoder, first17)
    assert replica.lookup(query) == []
    assert replica.refresh() is False  # nothing resolved since it loaded

    linker.apply_batch("health", [_newcomer(encoder, first17 + check_character(first17))], "w2")
    linker.resolve()
    newcomer = linker.person_of("health", "people", "newcomer-1")
    assert newcomer is not None
    assert replica.lookup(query) == []  # still the state it loaded
    assert replica.refresh() is True
    assert [m.person_id for m in replica.lookup(query)] == [newcomer]
    assert replica.refresh() is False




def test_lookups_keep_answering_between_a_new_batch_and_its_resolution(
    database_url: str, encoded: dict[str, list[linkage_pb2.LinkageRecord]], encoder: LinkageEncoder
) -> None:
    """Linkage pulls, then resolves: in between, lookups answer from the last resolution
    (before, the first new record made every lookup fail with "not resolved yet")."""
    index = _linked(database_url, encoded, encoder)
    first17 = FIRST17
    known = index.person_of("health", "people", "newcomer-1")
    assert [m.person_id for m in index.lookup(_query(encoder, first17))] == [known]

    later17 = "33010619920506004"
    later = _newcomer(encoder, later17 + check_character(later17))
    later.local_record_id = "newcomer-2"
    index.apply_batch("health", [later], "w3")
    assert [m.person_id for m in index.lookup(_query(encoder, first17))] == [known]
    assert index.lookup(_query(encoder, later17)) == []  # findable once resolved, not before
    index.resolve()
    assert [m.person_id for m in index.lookup(_query(encoder, later17))] == [
        index.person_of("health", "people", "newcomer-2")
    ]


class _CountingMatcher:
    """Counts how often the lookup state is built (wraps the real Matcher)."""

    built = 0

    def __new__(cls, *args: object, **kwargs: object) -> object:
        from hub.identity.matcher import Matcher

        cls.built += 1
        return Matcher(*args, **kwargs)  # type: ignore[arg-type]


def test_concurrent_first_lookups_build_the_lookup_state_once(
    database_url: str,
    encoded: dict[str, list[linkage_pb2.LinkageRecord]],
    encoder: LinkageEncoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new worker's first requests arrive together: one builds the matcher, the others
    wait for it (each used to build its own, seconds of CPU apiece on a large index)."""
    linker = _linked(database_url, encoded, encoder)
    first17 = FIRST17
    expected = [m.person_id for m in linker.lookup(_query(encoder, first17))]

    monkeypatch.setattr("hub.identity.index.Matcher", _CountingMatcher)
    _CountingMatcher.built = 0
    replica = IdentityIndex(database_url)
    start = threading.Barrier(6)

    def first_lookup() -> list[str]:
        start.wait()
        return [m.person_id for m in replica.lookup(_query(encoder, first17))]

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: first_lookup(), range(6)))
    assert answers == [expected] * 6
    assert _CountingMatcher.built == 1


def test_load_builds_the_lookup_state_at_start(
    database_url: str,
    encoded: dict[str, list[linkage_pb2.LinkageRecord]],
    encoder: LinkageEncoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = IdentityIndex(database_url)
    assert index.load() is False  # never resolved: nothing to build yet
    for department, batch in encoded.items():
        index.apply_batch(department, batch, "w1")
    assert index.load() is False
    index.resolve()

    monkeypatch.setattr("hub.identity.index.Matcher", _CountingMatcher)
    _CountingMatcher.built = 0
    replica = IdentityIndex(database_url)
    assert replica.load() is True
    assert _CountingMatcher.built == 1
    replica.lookup(_query(encoder, "33010619910405003"))
    assert _CountingMatcher.built == 1  # the first lookup found it built


def test_refresh_builds_the_state_of_an_index_resolved_after_this_process_started(
    database_url: str, encoder: LinkageEncoder
) -> None:
    """A replica started before the first linkage has no lookup state; the periodic refresh
    builds it (off the request path) once another process has resolved, so no request is
    the one that loads the whole index."""
    replica = IdentityIndex(database_url)
    assert replica.load() is False and not replica.ready
    assert replica.refresh() is False  # nothing resolved anywhere yet
    linker = IdentityIndex(database_url)
    linker.apply_batch("health", [_newcomer(encoder, FIRST17 + check_character(FIRST17))], "w1")
    linker.resolve()
    assert replica.refresh() is True and replica.ready
    assert [m.person_id for m in replica.lookup(_query(encoder, FIRST17))] == [
        linker.person_of("health", "people", "newcomer-1")
    ]
