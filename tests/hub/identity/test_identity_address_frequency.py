"""Term-frequency adjustment of the address agreement (hub/identity/address_frequency.py).

A FEBRL-like population (two sources, one record of each person in each, no
households) with one person whose name, birth date and other id all differ
between the two records and whose address is the same: only the rarity of that
address links them. A household of four sharing an address (and a surname)
must not merge, in the same run.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from adapters.linkage.encoder import LinkageEncoder
from adapters.linkage.fields import IdentityFields
from hub.identity import comparison
from hub.identity.address_frequency import CLASSES, AddressFrequency, address_frequency, holders, share_class
from hub.identity.comparison import FEATURES, frequency_levels
from hub.identity.fellegi_sunter import FellegiSunterModel, frequency_u
from hub.identity.matcher import Matcher
from hub.identity.records import EncodedRecord, RecordMatrix
from hub.identity.resolution import resolve

GIVEN = ("james", "olivia", "jack", "amelia", "noah", "isla", "thomas", "mia", "william", "grace", "lucas", "chloe",
         "henry", "ella", "oscar", "zoe", "liam", "ruby", "ethan", "sophie", "harrison", "emily", "samuel", "lily")
SURNAMES = ("smith", "jones", "williams", "brown", "wilson", "taylor", "johnson", "white", "martin", "anderson",
            "thompson", "nguyen", "thomas", "walker", "harris", "lee", "ryan", "robinson", "kelly", "king",
            "davis", "wright", "evans", "roberts", "green", "hall", "wood", "jackson", "clarke", "patel")
STREETS = ("colebatch place", "leahy place", "hinchcliffe place", "rossarden street", "temperley street",
           "gamburra street", "kingsmill street", "jerrabomberra avenue", "florey crescent", "macrossan street",
           "wattle grove", "banksia road", "station street", "ocean parade", "church lane")
SUBURBS = ("jesmond", "shenton park", "malvern", "clayton", "toowong", "eden hills", "smithfield", "greenacre",
           "kambah", "belconnen", "fremantle", "glenelg")


def _typo(rng: random.Random, word: str) -> str:
    k = rng.randrange(len(word))
    return word[:k] + rng.choice("aeiourstln") + word[k + 1 :]


def _date(rng: random.Random) -> dt.date:
    return dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(70 * 365))


def _person(rng: random.Random, surname: str | None = None, address: str | None = None) -> dict[str, str]:
    street = f"{rng.randrange(1, 400)} {rng.choice(STREETS)} {rng.choice(SUBURBS)} {rng.randrange(2000, 7999)}"
    return {
        "name": f"{rng.choice(GIVEN)} {surname or rng.choice(SURNAMES)}",
        "birth_date": _date(rng).isoformat(),
        "other_id": str(rng.randrange(1_000_000, 9_999_999)),
        "residence_address": address or street,
    }


def _noisy(rng: random.Random, p: dict[str, str]) -> dict[str, str]:
    """The second source's copy: a typo in about half the fields, as FEBRL's duplicates."""
    out = dict(p)
    for f in ("name", "residence_address", "other_id"):
        if rng.random() < 0.4:
            out[f] = _typo(rng, out[f])
    if rng.random() < 0.2:
        out["birth_date"] = _date(rng).isoformat()
    return out


def _population() -> tuple[list[dict[str, str]], list[int], tuple[int, int], list[int]]:
    """Records, the person of each, the rows of the rare-address pair, the persons of the household."""
    rng = random.Random(3)
    records: list[dict[str, str]] = []
    person: list[int] = []
    for key in range(400):
        p = _person(rng)
        records += [p, _noisy(rng, p)]
        person += [key, key]
    # The FEBRL4 case (rec-4509): surname only, other birth date and other id, same rare address.
    address = "12 colebatch place brentwood village jesmond 3163"
    rare = (len(records), len(records) + 1)
    records += [
        {"name": "tiller", "birth_date": "1980-07-20", "other_id": "9020997", "residence_address": address},
        {"name": "tiller", "birth_date": "1928-05-18", "other_id": "3425576", "residence_address": address},
    ]
    person += [1000, 1000]
    # A household: four persons, one surname and one address, two records each.
    home = "7 florey crescent kambah 2902"
    household = []
    for key in range(2000, 2004):
        p = _person(rng, surname="okafor", address=home)
        records += [p, dict(p)]
        person += [key, key]
        household.append(key)
    return records, person, rare, household


def _matrix(records: list[dict[str, str]]) -> tuple[RecordMatrix, LinkageEncoder]:
    encoder = LinkageEncoder(b"address-frequency-test-secret-0123456789")
    recs = [
        EncodedRecord.from_encoding(encoder.encode(IdentityFields(**r)), ("d", "AB"[n % 2], str(n)))
        for n, r in enumerate(records)
    ]
    return RecordMatrix.from_records(recs, encoder.scheme().bloom_bits), encoder


@pytest.fixture(scope="module")
def resolved() -> tuple[RecordMatrix, np.ndarray, list[int], tuple[int, int], list[int], FellegiSunterModel]:
    records, person, rare, household = _population()
    mx, _ = _matrix(records)
    res = resolve(mx)
    return mx, res.labels, person, rare, household, res.model


def test_a_rare_shared_address_links_records_whose_name_date_and_id_differ(
    resolved: tuple[RecordMatrix, np.ndarray, list[int], tuple[int, int], list[int], FellegiSunterModel],
) -> None:
    _mx, labels, _person, (a, b), _household, _model = resolved
    assert labels[a] == labels[b]


def test_a_household_sharing_an_address_does_not_merge(
    resolved: tuple[RecordMatrix, np.ndarray, list[int], tuple[int, int], list[int], FellegiSunterModel],
) -> None:
    _mx, labels, person, _rare, household, _model = resolved
    members = [labels[person.index(key)] for key in household]
    assert len(set(members)) == len(household)


def test_no_wrong_pairs_in_the_population(
    resolved: tuple[RecordMatrix, np.ndarray, list[int], tuple[int, int], list[int], FellegiSunterModel],
) -> None:
    _mx, labels, person, _rare, _household, _model = resolved
    truth = np.asarray(person)
    for label in np.unique(labels):
        assert len(np.unique(truth[labels == label])) == 1


def test_an_identical_address_weighs_less_the_more_records_hold_it(
    resolved: tuple[RecordMatrix, np.ndarray, list[int], tuple[int, int], list[int], FellegiSunterModel],
) -> None:
    _mx, _labels, _person, _rare, _household, model = resolved
    col = [f.name for f in FEATURES].index("address")
    weight = np.log(np.asarray(model.m[col])) - np.log(np.asarray(model.u[col]))
    rare, common = weight[comparison.ADDRESS_IDENTICAL], weight[comparison.ADDRESS_IDENTICAL + comparison.ADDRESS_STRIDE * (CLASSES - 2)]  # 1-2 vs 5-8
    assert rare > common


def test_holders_and_classes_count_tokens_only() -> None:
    tokens = np.array([7, 7, 0, 9, 7, 5, 5, 5, 5, 5], np.int64)
    assert holders(tokens).tolist() == [3, 3, 0, 1, 3, 5, 5, 5, 5, 5]
    assert share_class(np.array([1, 2, 3, 4, 5, 8, 9, 0]), np.array([0, 2, 1, 1, 1, 1, 1, 0])).tolist() == [
        0, 0, 1, 1, 2, 2, 3, 0,
    ]
    freq = address_frequency(tokens, tokens != 0)
    assert freq.shared_pairs == (0.0, 3.0, 10.0, 0.0)  # token 7: 3 pairs (class 1); token 5: 10 pairs (class 2)
    assert freq.present_pairs == 9 * 8 / 2


def test_frequency_levels_split_only_alike_close_and_identical() -> None:
    levels = np.array([-1, 0, 3, 5, 6, 6, 4], np.int8)
    held = np.array([1, 1, 1, 2, 9, 1, 1], np.int32)
    i, j = np.arange(7), np.array([1, 0, 3, 4, 0, 5, 4])
    top = 3 * comparison.ADDRESS_STRIDE  # class 3: more than 8 holders (the more common token of the pair)
    assert frequency_levels(levels, held, i, j).tolist() == [-1, 0, 3, 5 + top, 6 + top, 6, 4 + top]


def test_a_lookup_counts_the_query_as_one_more_holder(
    resolved: tuple[RecordMatrix, np.ndarray, list[int], tuple[int, int], list[int], FellegiSunterModel],
) -> None:
    """The matcher classes a query's address by the index's holder counts, as the batch run would."""
    mx, labels, person, (a, _b), household, model = resolved
    records, *_ = _population()
    _, encoder = _matrix([])
    matcher = Matcher(mx, labels, model)

    def query(fields: dict[str, str]) -> RecordMatrix:
        encoding = encoder.encode(IdentityFields(**fields))
        return RecordMatrix.from_records([EncodedRecord.from_encoding(encoding)], mx.bloom_bytes * 8)

    member = person.index(household[0])
    assert matcher._query_holders(query(records[member])) == 8 + 1  # the household's 8 records and the query
    assert matcher._query_holders(query(records[a])) == 2 + 1
    assert matcher._query_holders(query({"name": "nobody", "residence_address": "1 nowhere lane 9999"})) == 1
    assert [m.label for m in matcher.match(query(records[member]))] == [labels[member]]


def test_only_the_rarest_class_may_fall_below_the_sampled_u() -> None:
    """Relatives share surname and address: commoner addresses keep at least the sampled u."""
    sampled = tuple([0.9, 0.05, 0.03, 0.0199] + [1e-4] * (comparison.ADDRESS_LEVELS - comparison.ADDRESS_ALIKE))
    frequency = AddressFrequency((100.0, 50.0, 400.0, 900.0), present_pairs=1e8)
    expected = np.zeros(comparison.ADDRESS_LEVELS)
    expected[comparison.ADDRESS_IDENTICAL::comparison.ADDRESS_STRIDE] = (100.0, 10.0, 40.0, 100.0)
    u = np.asarray(frequency_u(sampled, frequency, expected, 300.0))
    assert u[comparison.ADDRESS_IDENTICAL] < 1e-7  # 1-2 holders, every sharing pair a match: counted
    for level in (comparison.ADDRESS_ALIKE, comparison.ADDRESS_CLOSE, comparison.ADDRESS_IDENTICAL):
        assert (u[level + comparison.ADDRESS_STRIDE :: comparison.ADDRESS_STRIDE] >= 1e-4).all()
    assert abs(u.sum() - 1.0) < 1e-9
