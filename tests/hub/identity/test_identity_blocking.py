"""Vectorised building blocks checked against brute force: pair generation, pattern counting,
stable-id reconciliation."""

from __future__ import annotations

import dataclasses
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from identity_population import Person, SourceRecord

from hub.identity.blocking import pairs_from_keys
from hub.identity.fellegi_sunter import distinct_patterns
from hub.identity.reconcile import reconcile
from pingan.v1 import linkage_pb2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-3, max_value=6), min_size=0, max_size=40), st.integers(min_value=2, max_value=6))
def test_pairs_from_keys_matches_brute_force(keys: list[int], max_block: int) -> None:
    arr = np.array(keys, np.int64)
    valid = arr != 0
    i, j = pairs_from_keys(arr, valid, max_block)
    got = set(zip(i.tolist(), j.tolist(), strict=True))
    sizes = {k: keys.count(k) for k in set(keys)}
    want = {
        (a, b)
        for a, b in combinations(range(len(keys)), 2)
        if keys[a] == keys[b] and keys[a] != 0 and sizes[keys[a]] <= max_block
    }
    assert got == want and len(i) == len(got)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.integers(min_value=-1, max_value=4)] * 3), min_size=1, max_size=50))
def test_distinct_patterns_counts_rows(rows: list[tuple[int, int, int]]) -> None:
    patterns, counts = distinct_patterns(np.array(rows, np.int8))
    got = {tuple(p.tolist()): int(c) for p, c in zip(patterns, counts, strict=True)}
    assert got == {r: rows.count(r) for r in set(rows)}


def test_reconcile_keeps_ids_and_reports_merges_and_splits() -> None:
    previous = {"r1": "A", "r2": "A", "r3": "B", "r4": "C", "r5": "C", "r6": "C"}
    fresh = iter(["N1", "N2"])
    ids, changes = reconcile([["r1", "r2", "r3"], ["r4", "r5"], ["r6"], ["r7"]], previous, lambda: next(fresh))
    assert ids == ["A", "C", "N1", "N2"]
    kinds = {(c.kind, c.before, c.after) for c in changes}
    assert kinds == {("merge", ("A", "B"), ("A",)), ("split", ("C",), ("C", "N1"))}


def test_reconcile_is_a_no_op_on_the_same_clustering() -> None:
    previous = {"a": "P1", "b": "P1", "c": "P2"}
    ids, changes = reconcile([["c"], ["a", "b"]], previous, lambda: "never")
    assert ids == ["P2", "P1"] and changes == []


@given(st.lists(st.tuples(st.integers(-1, 6), st.integers(-1, 4), st.integers(-1, 1)), min_size=1, max_size=60))
@settings(max_examples=60, deadline=None)
def test_distinct_patterns_with_an_extra_column_equal_stacking_it(rows: list[tuple[int, int, int]]) -> None:
    full = np.array(rows, np.int8)
    stacked = distinct_patterns(full)
    extra = distinct_patterns(full[:, :2].copy(), full[:, 2].copy())
    assert np.array_equal(stacked[0], extra[0]) and np.array_equal(stacked[1], extra[1])


@given(st.lists(st.integers(0, 50), max_size=80))
@settings(max_examples=60, deadline=None)
def test_unique_in_place_equals_numpy_unique(values: list[int]) -> None:
    from hub.identity.uniques import unique, unique_counts

    arr = np.array(values, np.int64)
    expected, counts = np.unique(arr, return_counts=True)
    assert np.array_equal(unique(arr.copy(), in_place=True), expected)
    got, got_counts = unique_counts(arr.copy(), in_place=True)
    assert np.array_equal(got, expected) and np.array_equal(got_counts, counts)


@given(st.lists(st.lists(st.integers(0, 2**40), max_size=40), max_size=8))
@settings(max_examples=60, deadline=None)
def test_unique_of_merged_runs_equals_numpy_unique(runs: list[list[int]]) -> None:
    """The blocking merge path: sorted sets concatenated, then ``unique(..., runs=True)``."""
    from hub.identity.uniques import unique

    merged = np.concatenate([np.zeros(0, np.int64)] + [np.sort(np.array(r, np.int64)) for r in runs])
    assert np.array_equal(unique(merged.copy(), in_place=True, runs=True), np.unique(merged))
    shuffled = merged[::-1].copy()  # not runs: still correct, only slower
    assert np.array_equal(unique(shuffled, runs=True), np.unique(merged))


def test_filter_keys_block_a_changed_surname_and_the_matcher_uses_them_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same given name and birth date, other surname, nothing else (FEBRL4 rec-3996): an exact filter key."""
    from adapters.linkage.encoder import LinkageEncoder
    from adapters.linkage.fields import IdentityFields
    from hub.identity import blocking
    from hub.identity.blocking import FILTER_KEYS, candidate_pairs, filter_key
    from hub.identity.comparison import FEATURES
    from hub.identity.fellegi_sunter import estimate_u, fit
    from hub.identity.matcher import Matcher
    from hub.identity.records import EncodedRecord, RecordMatrix

    encoder = LinkageEncoder(b"filter-key-test-secret-03-0123456789abcdef")
    # With this secret no LSH band of the pair collides (asserted below with FILTER_KEYS emptied).
    people = [
        IdentityFields(name="georgia maynard", birth_date="1970-03-24",
                       residence_address="10 temperley street tieve tara toowong 3175"),
        IdentityFields(name="georgia petersen-wollongong", birth_date="1970-03-24",
                       residence_address="157 jerrabomberra avenue narrabundah 2604"),
        IdentityFields(name="georgia maynard", birth_date="1970-03-25"),
    ]
    mx = RecordMatrix.from_records(
        [EncodedRecord.from_encoding(encoder.encode(p), ("d", "s", str(n))) for n, p in enumerate(people)], 512
    )
    keys, valid = filter_key(mx, ("given_name", "birth_date"))
    assert valid.all() and keys[0] == keys[1] != keys[2]
    assert ("given_name", "birth_date") in FILTER_KEYS
    with monkeypatch.context() as m:
        m.setattr(blocking, "FILTER_KEYS", ())
        i, j = candidate_pairs(mx)
        assert (0, 1) not in set(zip(i.tolist(), j.tolist(), strict=True))  # the premise
    i, j = candidate_pairs(mx)
    assert (0, 1) in set(zip(i.tolist(), j.tolist(), strict=True))
    index = RecordMatrix.from_records([EncodedRecord.from_encoding(encoder.encode(people[0]))], 512)
    empty = np.zeros((0, len(FEATURES)), np.int8)
    model = fit(empty, estimate_u(empty))
    query = RecordMatrix.from_records([EncodedRecord.from_encoding(encoder.encode(people[1]))], 512)
    assert Matcher(index, np.array([0]), model).candidates(query).tolist() == [0]


def test_record_keys_equal_the_vectorised_keys_row_by_row(
    population: tuple[list[Person], list[SourceRecord]], encoded: dict[str, list[linkage_pb2.LinkageRecord]]
) -> None:
    """A lookup's keys (Python integers, one record) are the batch keys of that record, so a
    lookup blocks exactly as the batch resolution did; rows without a jurisdiction, without a
    birth date or without an address lose exactly the keys the batch withholds."""
    from hub.identity.blocking import FILTER_KEYS, PERSON_TOKENS, VIEWS, band_keys, filter_key, record_keys
    from hub.identity.records import EncodedRecord, RecordMatrix

    records = [
        EncodedRecord.from_message(dept, r) for dept, recs in sorted(encoded.items()) for r in recs[:40]
    ]
    records = [
        dataclasses.replace(r, jurisdiction="" if n % 3 == 0 else r.jurisdiction) for n, r in enumerate(records)
    ]
    mx = RecordMatrix.from_records(records, len(records[0].blooms[0][1]) * 8)
    columns = [(mx.tokens[k], mx.tokens[k] != 0) for k in PERSON_TOKENS]
    columns += [filter_key(mx, fields) for fields in FILTER_KEYS]
    columns += [pair for view in VIEWS for pair in band_keys(mx, view)]
    missing = 0
    for row in range(mx.n):
        expected = [int(keys[row]) if valid[row] else None for keys, valid in columns]
        got = record_keys(mx, row)
        assert got == expected, row
        missing += got.count(None)
    assert missing > 0 and mx.n > 100  # the test covers absent keys, not only present ones


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 3),
    st.booleans(),
    st.floats(0.0, 0.6),
    st.integers(0, 2**32 - 1),
)
def test_minhash_equals_its_definition(n_fields: int, union: bool, density: float, seed: int) -> None:
    """Each signature value is the smallest rank of a set bit (Broder 1997), whatever the
    density: sparse rows walk past many windows, empty rows have no signature."""
    from hub.identity import blocking
    from hub.identity.records import RecordMatrix

    rng = np.random.default_rng(seed)
    fields = ("name", "birth_date", "residence_address")[:n_fields]
    n = 37
    mx = RecordMatrix(bloom_bytes=16, sex=np.zeros(n, np.int8))
    for f in fields:
        bits = rng.random((n, 128)) < density * rng.random((n, 1))  # per-row density, some rows empty
        bits[rng.random(n) < 0.1] = False
        mx.blooms[f] = np.packbits(bits, axis=1)
    sig, has = blocking.minhash(mx, fields, 9, seed=3, union=union)
    ranks = blocking._permutation_ranks(128 * (1 if union else n_fields), 9, 3)
    for row in range(n):
        parts = [np.unpackbits(mx.blooms[f][row]) for f in fields]
        bits_row = np.bitwise_or.reduce(parts) if union else np.concatenate(parts)
        cols = np.flatnonzero(bits_row)
        assert has[row] == (len(cols) > 0)
        if len(cols):
            assert sig[row].tolist() == ranks[:, cols].min(axis=1).tolist()


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=30))
@settings(max_examples=60, deadline=None)
def test_token_ints_equal_token_int_one_by_one(tokens: list[bytes]) -> None:
    """The stored path reads tokens in bulk; each value must be the one a lookup computes."""
    from hub.identity.records import token_int, token_ints

    tokens = tokens + [bytes(32), bytes(8) + b"\xff" * 24]  # an all-zero prefix maps to 1, not 0 ("missing")
    assert token_ints(tokens).tolist() == [token_int(t) for t in tokens]


def test_views_over_one_filter_draw_independent_permutations() -> None:
    """Each LSH view has its own MinHash permutations (``view_seed``): the three views over the
    name filter used to share theirs, so their bands missed the same pairs together."""
    from hub.identity.blocking import VIEWS, _permutation_ranks, view_seed

    seeds = [view_seed(v) for v in VIEWS]
    assert len(set(seeds)) == len(VIEWS)
    name_views = [v for v in VIEWS if v.fields == ("name",)]
    assert len(name_views) >= 2
    first = [_permutation_ranks(512, 4, view_seed(v))[0] for v in name_views]
    for a, b in combinations(first, 2):
        assert not np.array_equal(a, b)
