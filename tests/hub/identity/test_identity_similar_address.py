"""A similar (not close) address with alike numbers: the FEBRL4 rec-944 case, and relatives.

``joshua berry`` / ``zachary berry``: the given name and the other id differ, one side has
no birth date, and the address has typos in three words and a transposed postcode
(residence Dice ~0.84, just below "close"). What links them is the surname and that the
address, though only similar, agrees in its numbers too, which random pairs almost never
do: the alike level's u comes from a large random sample with EM's expected matches
removed (``AddressFrequency.u_alike``), and blocking keys the residence bands on the
identical surname filter (``surname_address``). A household whose members share the
surname and the address (plus a relative's record with a mistyped address and no ID)
must still not merge, in the same run.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from test_identity_address_frequency import GIVEN, _date, _person, _typo
from test_identity_address_frequency import _population as frequency_population

from adapters.linkage.encoder import LinkageEncoder
from adapters.linkage.fields import IdentityFields
from hub.identity.address_frequency import AddressFrequency
from hub.identity.blocking import VIEWS, candidate_pairs
from hub.identity.comparison import (
    ADDRESS_ALIKE,
    ADDRESS_CLOSE,
    ADDRESS_IDENTICAL,
    ADDRESS_LEVELS,
    ADDRESS_SIMILAR,
    address_levels,
)
from hub.identity.fellegi_sunter import frequency_u
from hub.identity.records import EncodedRecord, RecordMatrix
from hub.identity.resolution import resolve

BERRY = (
    {"name": "joshua berry", "birth_date": "1955-05-19", "other_id": "3007951",
     "residence_address": "95 leahy place crestfield shenton park 6302"},
    {"name": "zachary berry", "other_id": "3631759",
     "residence_address": "95 leahy lplace crestkield shento mpark 6320"},
)


# FEBRL's surnames are many (a surname agrees by chance in ~1 of 270 pairs): 400 of them here.
_STEMS = ("mac", "ash", "bel", "cor", "dun", "fair", "gal", "hol", "kin", "lang", "mor", "pen", "ros", "stan",
          "thorn", "ald", "bram", "cres", "dal", "win")
_ENDS = ("ley", "ton", "ford", "wick", "by", "field", "worth", "ham", "well", "more", "den", "ridge", "stone",
         "wood", "hurst", "cliff", "brook", "shaw", "mead", "croft")


def _noisy(rng: random.Random, p: dict[str, str]) -> dict[str, str]:
    """The second source's copy, with FEBRL4's kinds of damage: typos, and sometimes a whole
    field replaced or dropped (another other id, given name or birth date), several typos in
    the address."""
    out = dict(p)
    given, surname = out["name"].split(" ")
    if rng.random() < 0.1:
        given = rng.choice(GIVEN)
    elif rng.random() < 0.3:
        given = _typo(rng, given)
    if rng.random() < 0.2:
        surname = _typo(rng, surname)
    out["name"] = f"{given} {surname}"
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
        out["residence_address"] = _typo(rng, out["residence_address"])
    r = rng.random()
    if r < 0.08:
        out["other_id"] = str(rng.randrange(1_000_000, 9_999_999))
    elif r < 0.4:
        out["other_id"] = _typo(rng, out["other_id"])
    r = rng.random()
    if r < 0.1:
        del out["birth_date"]
    elif r < 0.2:
        out["birth_date"] = _date(rng).isoformat()
    return out


def _population() -> tuple[list[dict[str, str]], list[int], tuple[int, int]]:
    """FEBRL-like pairs (many surnames, FEBRL4's damage) and the berry pair."""
    rng = random.Random(5)
    records: list[dict[str, str]] = []
    person: list[int] = []
    for key in range(600):
        p = _person(rng, surname=rng.choice(_STEMS) + rng.choice(_ENDS))
        records += [p, _noisy(rng, p)]
        person += [key, key]
    pair = (len(records), len(records) + 1)
    records += list(BERRY)
    person += [1000, 1000]
    return records, person, pair


def _household_population() -> tuple[list[dict[str, str]], list[int], list[int]]:
    """The address-frequency test's population (a household of four sharing surname and address)
    plus a relative's bare record: the address mistyped into an alike one, no birth date, no ID,
    another given name - the pattern that merged relatives before (docs/linkage.md)."""
    records, person, _rare, household = frequency_population()
    records = [*records, {"name": "amara okafor", "residence_address": "7 florey cresent kambah 2920"}]
    return records, [*person, 2004], [*household, 2004]


def _matrix(records: list[dict[str, str]], secret: bytes) -> RecordMatrix:
    encoder = LinkageEncoder(secret)
    recs = [
        EncodedRecord.from_encoding(encoder.encode(IdentityFields(**r)), ("d", "AB"[n % 2], str(n)))
        for n, r in enumerate(records)
    ]
    return RecordMatrix.from_records(recs, encoder.scheme().bloom_bits)


SECRETS = [b"similar-address-test-secret-0123456789", bytes([3]) * 32]


@pytest.fixture(scope="module", params=SECRETS)
def resolved(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    records, person, pair = _population()
    mx = _matrix(records, request.param)
    return resolve(mx), person, pair


@pytest.fixture(scope="module", params=SECRETS)
def household_resolved(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    records, person, household = _household_population()
    return resolve(_matrix(records, request.param)), person, household


def test_a_similar_address_with_alike_numbers_links_a_surname_only_pair(resolved) -> None:  # type: ignore[no-untyped-def]
    res, _person, (a, b) = resolved
    assert res.labels[a] == res.labels[b]


def test_no_wrong_pairs(resolved) -> None:  # type: ignore[no-untyped-def]
    res, person, _pair = resolved
    truth = np.asarray(person)
    for label in np.unique(res.labels):
        assert len(np.unique(truth[res.labels == label])) == 1


def test_relatives_sharing_surname_and_a_mistyped_address_do_not_merge(household_resolved) -> None:  # type: ignore[no-untyped-def]
    res, person, household = household_resolved
    members = [res.labels[person.index(key)] for key in household]
    assert len(set(members)) == len(household)
    truth = np.asarray(person)
    for label in np.unique(res.labels):
        assert len(np.unique(truth[res.labels == label])) == 1


@pytest.mark.parametrize("secret", [bytes([s]) * 32 for s in range(1, 13)])
def test_the_surname_keyed_view_makes_the_pair_a_candidate_with_every_secret(secret: bytes) -> None:
    """Only the surname_address view: the pair shares no other block with some secrets (FEBRL4)."""
    mx = _matrix(list(BERRY), secret)
    view = tuple(v for v in VIEWS if v.name == "surname_address")
    assert view, "surname_address view missing"
    i, j = candidate_pairs(mx, view)
    assert (i.tolist(), j.tolist()) == ([0], [1])


def test_address_levels_split_similar_by_alike_numbers() -> None:
    whole = np.array([0.72, 0.72, 0.55, 0.84, 0.9, 1.0, np.nan], np.float32)
    numbers = np.array([0.2, 0.66, 1.0, np.nan, 0.1, 1.0, 1.0], np.float32)
    assert address_levels(whole, numbers).tolist() == [
        ADDRESS_SIMILAR, ADDRESS_ALIKE, ADDRESS_SIMILAR, ADDRESS_SIMILAR, ADDRESS_CLOSE, ADDRESS_IDENTICAL, -1,
    ]


def test_the_alike_u_removes_the_expected_matches_of_the_random_sample() -> None:
    """Random pairs at the alike level that EM explains as matches do not count as u."""
    sampled_levels = [0.0] * ADDRESS_LEVELS
    sampled_levels[0], sampled_levels[ADDRESS_ALIKE] = 1_999_970.0, 30.0
    frequency = AddressFrequency((0.0, 0.0, 0.0, 0.0), 50e6, tuple(sampled_levels), 2e6)
    expected = np.zeros(ADDRESS_LEVELS)
    expected[ADDRESS_ALIKE] = 700.0  # over 50M pairs: 1.4e-5 of them, 28 of the sample's 30
    assert frequency.u_alike(ADDRESS_ALIKE, 700.0) == pytest.approx((30 - 28 + 1) / 2e6)
    sampled = tuple([0.97, 0.01, 0.0197, 1e-4, 1e-4] + [1e-4] * (ADDRESS_LEVELS - ADDRESS_CLOSE))
    u = np.asarray(frequency_u(sampled, frequency, expected, 5000.0))
    assert u[ADDRESS_ALIKE] == pytest.approx(1.5e-6)
    assert abs(u.sum() - 1.0) < 1e-9
    # Without a sample (a stored model's frequency, older callers) the sampled u stays.
    bare = AddressFrequency((0.0, 0.0, 0.0, 0.0), 50e6)
    assert np.asarray(frequency_u(sampled, bare, expected, 5000.0))[ADDRESS_ALIKE] == pytest.approx(1e-4, rel=0.05)
