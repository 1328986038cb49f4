"""The resolver on a real database: quality floor, constraints, stable ids, events, households."""

from __future__ import annotations

import datetime as dt

import pytest
from identity_population import Person, SourceRecord, true_pairs

from adapters.linkage.encoder import LinkageEncoder
from adapters.linkage.fields import IdentityFields
from adapters.linkage.idnumber import check_character
from hub.identity.index import IdentityIndex
from pingan.v1 import common_pb2, linkage_pb2

# Correctness floors on a fixed seed (not timing): the resolver must find nearly every
# true pair of this noisy population and invent almost none.
PERSON_PRECISION, PERSON_RECALL = 0.99, 0.97
HOUSEHOLD_PRECISION, HOUSEHOLD_RECALL = 0.97, 0.97


def _rec(encoder: LinkageEncoder, local_id: str, groups: tuple[int, ...] = (), **fields: str) -> linkage_pb2.LinkageRecord:
    return linkage_pb2.LinkageRecord(
        dataset="people",
        local_record_id=local_id,
        encoding=encoder.encode(IdentityFields(**fields)),
        jurisdiction="西湖区/文新街道/1社区/3网格",
        groups=list(groups),
    )


@pytest.fixture
def loaded(database_url: str, encoded: dict[str, list[linkage_pb2.LinkageRecord]]) -> IdentityIndex:
    index = IdentityIndex(database_url)
    for department, batch in encoded.items():
        index.apply_batch(department, batch, "w1")
    index.resolve()
    return index


def _id(first17: str) -> str:
    """A valid GB 11643 number from its first 17 digits."""
    return first17 + check_character(first17)


def _keys(records: list[SourceRecord]) -> list[tuple[str, str, str]]:
    return [(r.department, r.dataset, r.local_record_id) for r in records]


def test_quality_floor_persons_and_households(
    loaded: IdentityIndex, population: tuple[list[Person], list[SourceRecord]]
) -> None:
    _persons, records = population
    keys = _keys(records)
    predicted = [loaded.person_of(*k) for k in keys]
    assert all(predicted)
    truth, got = true_pairs(keys, [r.person for r in records]), true_pairs(keys, predicted)  # type: ignore[arg-type]
    assert len(truth & got) / len(got) >= PERSON_PRECISION
    assert len(truth & got) / len(truth) >= PERSON_RECALL
    households = {}
    for k, pid in zip(keys, predicted, strict=True):
        info = loaded.person(pid)  # type: ignore[arg-type]
        assert info is not None and info.household_id
        households[k] = info.household_id
    h_truth = true_pairs(keys, [r.household for r in records])
    h_got = true_pairs(keys, [households[k] for k in keys])  # type: ignore[misc]
    assert len(h_truth & h_got) / len(h_got) >= HOUSEHOLD_PRECISION
    assert len(h_truth & h_got) / len(h_truth) >= HOUSEHOLD_RECALL


def test_rerun_keeps_every_id_and_records_nothing(loaded: IdentityIndex) -> None:
    before = {p: loaded.records_of(p) for p in loaded.persons()}
    households = {p: loaded.person(p).household_id for p in before}  # type: ignore[union-attr]
    seq = len(loaded.events_since(0))
    summary = loaded.resolve()
    assert {p: loaded.records_of(p) for p in loaded.persons()} == before
    assert {p: loaded.person(p).household_id for p in before} == households  # type: ignore[union-attr]
    assert summary.merges == summary.splits == 0 and loaded.events_since(seq) == []


def test_incremental_record_joins_its_person_and_others_keep_ids(
    loaded: IdentityIndex, encoder: LinkageEncoder, population: tuple[list[Person], list[SourceRecord]]
) -> None:
    persons, records = population
    before = {p: loaded.records_of(p) for p in loaded.persons()}
    target = persons[7]
    target_pid = loaded.person_of(*_keys([r for r in records if r.person == 7])[0])
    new = _rec(encoder, "edu-1", name=target.name, birth_date=f"{target.birth:%Y年%m月%d日}", phone=target.phone)
    stranger = _rec(encoder, "edu-2", name="欧阳修远", birth_date="1961-06-01", id_number=_id("33010819610601001"))
    loaded.apply_batch("education", [new, stranger], "e1")
    summary = loaded.resolve()
    assert loaded.person_of("education", "people", "edu-1") == target_pid
    stranger_pid = loaded.person_of("education", "people", "edu-2")
    assert stranger_pid not in before
    after = {p: loaded.records_of(p) for p in loaded.persons()}
    for pid, refs in before.items():
        extra = [r for r in after[pid] if r not in refs]
        assert set(refs) <= set(after[pid]) and (extra == [] or pid == target_pid)
    assert summary.merges == summary.splits == 0


def test_lookup_by_query_encoding(
    loaded: IdentityIndex, encoder: LinkageEncoder, population: tuple[list[Person], list[SourceRecord]]
) -> None:
    persons, records = population
    p = persons[11]
    pid = loaded.person_of(*_keys([r for r in records if r.person == 11])[0])
    by_id = loaded.lookup(encoder.encode_query(linkage_pb2.IdentityQuery(id_number=p.id_number.lower())))
    assert [m.person_id for m in by_id] == [pid]
    by_name = loaded.lookup(encoder.encode_query(linkage_pb2.IdentityQuery(name=p.name, birth_date=f"{p.birth:%Y%m%d}")))
    assert by_name and by_name[0].person_id == pid and by_name[0].probability >= 0.5
    assert loaded.lookup(encoder.encode_query(linkage_pb2.IdentityQuery(id_number="11010519491231002X"))) == []


def test_a_lookup_by_phone_alone_names_whoever_holds_the_number(
    loaded: IdentityIndex, encoder: LinkageEncoder, population: tuple[list[Person], list[SourceRecord]]
) -> None:
    """A mobile number alone scores too low for the probabilistic match (one agreeing
    field), so a phone query is answered by the persons holding its keyed token."""
    persons, records = population
    target = persons[7]
    target_pid = loaded.person_of(*_keys([r for r in records if r.person == 7])[0])
    own, shared, nobody = "13912345678", "13987654321", "13900000000"
    batch = [
        _rec(encoder, "edu-p1", name=target.name, birth_date=f"{target.birth:%Y-%m-%d}", id_number=target.id_number, phone=own),
        _rec(encoder, "edu-p2", name="欧阳修远", birth_date="1961-06-01", id_number=_id("33010819610601001"), phone=shared),
        _rec(encoder, "edu-p3", name="司马光明", birth_date="1970-02-03", id_number=_id("33010819700203001"), phone=shared),
    ]
    loaded.apply_batch("education", batch, "p1")
    loaded.resolve()
    assert loaded.person_of("education", "people", "edu-p1") == target_pid
    assert [(m.person_id, m.probability) for m in loaded.lookup(encoder.encode_query(linkage_pb2.IdentityQuery(phone=own)))] == [
        (target_pid, 1.0)
    ]
    # A landline is looked up the same way (it is never a blocking key).
    home_line = "0571-88001234"
    loaded.apply_batch("education", [
        _rec(encoder, "edu-p4", name="司马光明", birth_date="1970-02-03", id_number=_id("33010819700203001"), phone=home_line),
    ], "p2")
    loaded.resolve()
    line = loaded.lookup(encoder.encode_query(linkage_pb2.IdentityQuery(phone=home_line)))
    assert [(m.person_id, m.probability) for m in line] == [(loaded.person_of("education", "people", "edu-p3"), 1.0)]
    both = {m.person_id for m in loaded.lookup(encoder.encode_query(linkage_pb2.IdentityQuery(phone=shared)))}
    assert both == {loaded.person_of("education", "people", "edu-p2"), loaded.person_of("education", "people", "edu-p3")}
    assert len(both) == 2
    assert loaded.lookup(encoder.encode_query(linkage_pb2.IdentityQuery(phone=nobody))) == []


def test_a_name_and_birth_date_name_only_who_holds_exactly_both(
    loaded: IdentityIndex, encoder: LinkageEncoder, population: tuple[list[Person], list[SourceRecord]]
) -> None:
    """A name alone scores high against a record without a birth date; asked by name and
    birth date, only persons holding that exact (normalised) pair are named."""
    persons, records = population
    found = 0
    for n in range(60):
        p = persons[n]
        pid = loaded.person_of(*_keys([r for r in records if r.person == n])[0])
        right = loaded.lookup(encoder.encode_query(linkage_pb2.IdentityQuery(name=p.name, birth_date=f"{p.birth:%Y年%m月%d日}")))
        assert all(m.probability == 1.0 for m in right)
        if right:
            assert pid in {m.person_id for m in right}
            found += 1
        wrong_day = p.birth + dt.timedelta(days=1)
        wrong = loaded.lookup(encoder.encode_query(linkage_pb2.IdentityQuery(name=p.name, birth_date=f"{wrong_day:%Y-%m-%d}")))
        assert pid not in {m.person_id for m in wrong}
    assert found >= 50  # premise: most persons have a record holding their registered name and birth date


def test_a_lookup_answers_as_the_full_match_does(
    loaded: IdentityIndex, encoder: LinkageEncoder, population: tuple[list[Person], list[SourceRecord]]
) -> None:
    """``lookup`` answers a held ID number without building a query matrix; its answers
    must be exactly those of ``Matcher.match`` over the one-row matrix, for held, unknown
    and invalid numbers, with and without other fields."""
    from hub.identity.records import EncodedRecord, RecordMatrix

    persons, _ = population
    state = loaded._ensure_loaded()
    queries = [linkage_pb2.IdentityQuery(id_number=p.id_number) for p in persons[:40]]
    queries += [linkage_pb2.IdentityQuery(id_number=p.id_number, name=p.name, phone=p.phone) for p in persons[40:60]]
    queries += [
        linkage_pb2.IdentityQuery(id_number="11010519491231002X", name=persons[5].name, birth_date=f"{persons[5].birth:%Y%m%d}"),
        linkage_pb2.IdentityQuery(id_number="110105194912310021"),  # checksum fails: no keyed token
        linkage_pb2.IdentityQuery(name=persons[9].name, phone=persons[9].phone),
    ]
    held = 0
    for query in queries:
        encoding = encoder.encode_query(query)
        q = RecordMatrix.from_records([EncodedRecord.from_encoding(encoding)], state.scheme.bloom_bits)
        full = [(state.person_ids[m.label], m.probability) for m in state.matcher.match(q)]
        assert [(m.person_id, m.probability) for m in loaded.lookup(encoding)] == full
        held += bool(state.matcher.by_id_number(int(q.tokens["id_number"][0])))
    assert held >= 55  # premise: most of these take the shortcut


def test_lookup_survives_a_reopened_index(
    loaded: IdentityIndex, database_url: str, encoder: LinkageEncoder, population: tuple[list[Person], list[SourceRecord]]
) -> None:
    persons, records = population
    pid = loaded.person_of(*_keys([r for r in records if r.person == 3])[0])
    reopened = IdentityIndex(database_url)
    found = reopened.lookup(encoder.encode_query(linkage_pb2.IdentityQuery(id_number=persons[3].id_number)))
    assert [m.person_id for m in found] == [pid]


def test_two_valid_id_numbers_are_never_one_person(loaded: IdentityIndex, encoder: LinkageEncoder) -> None:
    index = loaded
    same = {"name": "王伟", "birth_date": "1980-01-01", "phone": "13900001111", "residence_address": "西湖区文三路1号"}
    index.apply_batch(
        "health",
        [
            _rec(encoder, "a", id_number=_id("33010819800101001"), **same),
            _rec(encoder, "b", id_number=_id("33010819800101003"), **same),
            _rec(encoder, "c", **same),  # no ID: may join one of them, never both
        ],
        "h1",
    )
    index.resolve()
    a, b, c = (index.person_of("health", "people", x) for x in "abc")
    assert a != b
    assert c in (a, b)


def test_merge_and_split_events(loaded: IdentityIndex, encoder: LinkageEncoder) -> None:
    index = loaded
    start = len(index.events_since(0))
    index.apply_batch("education", [_rec(encoder, "x", name="赵敏", residence_address="上城区解放路7号2室")], "c1")
    index.apply_batch("grid", [_rec(encoder, "y", id_number=_id("33010819750505002"), phone="13512345678")], "j1")
    index.resolve()
    px, py = index.person_of("education", "people", "x"), index.person_of("grid", "people", "y")
    assert px != py and index.events_since(start) == []
    # A record carrying all identifiers links both: their persons merge.
    bridge = _rec(
        encoder, "w", name="趙敏", residence_address="杭州市上城区解放路7号2室", id_number=_id("33010819750505002"),
        phone="13512345678",
    )
    index.apply_batch("grid", [bridge], "h2")
    summary = index.resolve()
    assert summary.merges == 1
    merged = index.person_of("grid", "people", "w")
    assert index.person_of("education", "people", "x") == index.person_of("grid", "people", "y") == merged
    assert merged in (px, py)
    (event,) = index.events_since(start)
    assert (event.subject, event.kind, set(event.before), event.after) == ("person", "merge", {px, py}, (merged,))
    assert "probability" in event.reason
    # The bridge is corrected to someone else: the person splits again.
    corrected = _rec(encoder, "w", name="孙立", birth_date="1950-02-02", id_number=_id("33010819500202001"))
    index.apply_batch("grid", [corrected], "h3")
    summary = index.resolve()
    assert summary.splits == 1
    split = [e for e in index.events_since(event.seq) if e.subject == "person"]
    assert [e.kind for e in split] == ["split"] and split[0].before == (merged,) and merged in split[0].after
    assert index.person_of("education", "people", "x") != index.person_of("grid", "people", "y")


def test_deleted_record_leaves_its_person(loaded: IdentityIndex, encoder: LinkageEncoder) -> None:
    index = loaded
    index.apply_batch("education", [_rec(encoder, "a", name="周杰伦", birth_date="1979-01-18", phone="13711112222")], "h1")
    index.apply_batch("grid", [_rec(encoder, "b", name="周杰伦", birth_date="1979/1/18", phone="13711112222")], "j1")
    index.resolve()
    pid = index.person_of("education", "people", "a")
    assert index.person_of("grid", "people", "b") == pid
    index.apply_batch("grid", [linkage_pb2.LinkageRecord(dataset="people", local_record_id="b", deleted=True)], "j2")
    index.resolve()
    assert [r.department for r in index.records_of(pid)] == ["education"]  # type: ignore[arg-type]
    assert index.person_of("grid", "people", "b") is None


def test_households_migrants_jurisdiction_and_groups(loaded: IdentityIndex, encoder: LinkageEncoder) -> None:
    index = loaded
    home = "杭州市上城区清泰街12号3幢501室"
    corrections = common_pb2.SENSITIVE_GROUP_COMMUNITY_CORRECTIONS
    index.apply_batch(
        "grid",
        [
            _rec(encoder, "1", name="李明", id_number=_id("33010819800101001"), household_number="HZ-0001",
                 registered_address="河南省郑州市金水区花园路1号", residence_address=home),
            _rec(encoder, "2", name="王芳", id_number=_id("33010819820202002"), household_number="HZ-0001",
                 registered_address="浙江省" + home, residence_address=home),
            _rec(encoder, "3", name="李小明", id_number=_id("33010820100303003"), residence_address="上城区清泰街12号3幢501室"),
            _rec(encoder, "4", name="陈独", id_number=_id("33010819700404004"), residence_address="拱墅区莫干山路88号"),
        ],
        "p1",
    )
    index.apply_batch(
        "education", [_rec(encoder, "9", groups=(corrections,), name="李明", id_number=_id("33010819800101001"))], "j1"
    )
    index.resolve()
    ids = [index.person_of("grid", "people", x) for x in "1234"]
    infos = [index.person(p) for p in ids]  # type: ignore[arg-type]
    assert all(infos)
    hh = [i.household_id for i in infos]  # type: ignore[union-attr]
    assert hh[0] == hh[1] == hh[2] != hh[3]
    assert sorted(index.household_members(hh[0])) == sorted(ids[:3])  # type: ignore[arg-type]
    assert [i.migrant for i in infos] == [True, False, False, False]  # type: ignore[union-attr]
    assert infos[0].groups == (corrections,) and infos[0].records == 2  # type: ignore[union-attr]
    assert infos[0].jurisdiction == "西湖区/文新街道/1社区/3网格"  # type: ignore[union-attr]


def test_an_exact_valid_id_number_finds_a_record_that_has_nothing_else(loaded: IdentityIndex, encoder: LinkageEncoder) -> None:
    """A query by ID number matches a record carrying only that ID, at certainty (the
    model alone scores such a pair low because every other field is missing)."""
    bare = _rec(encoder, "bare-1", id_number=_id("44010619770305002"))
    loaded.apply_batch("civil_affairs", [bare], "bare")
    loaded.resolve()
    pid = loaded.person_of("civil_affairs", "people", "bare-1")
    found = loaded.lookup(encoder.encode_query(linkage_pb2.IdentityQuery(id_number=_id("44010619770305002"))))
    assert [(m.person_id, m.probability) for m in found] == [(pid, 1.0)]


def test_records_load_the_same_in_small_chunks_with_deleted_records(
    loaded: IdentityIndex,
    encoder: LinkageEncoder,
    encoded: dict[str, list[linkage_pb2.LinkageRecord]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The index reads its records in chunks (bounded memory at a million records): chunk
    boundaries, a deleted record's leftover rows and token placement change nothing."""
    import numpy as np

    from hub.identity import index as index_module

    department, first = sorted(encoded.items())[0][0], sorted(encoded.items())[0][1][0]
    gone = linkage_pb2.LinkageRecord(dataset=first.dataset, local_record_id=first.local_record_id, deleted=True)
    loaded.apply_batch(department, [gone], "d1")
    loaded.apply_batch("grid", [_rec(encoder, "kept", name="周杰伦", phone="13711112222")], "d2")
    with loaded.engine.connect() as conn:
        whole = loaded._load(conn)
        monkeypatch.setattr(index_module, "_LOAD_CHUNK", 7)
        chunked = loaded._load(conn)
    assert (whole.ids, whole.person_ids, whole.extras) == (chunked.ids, chunked.person_ids, chunked.extras)
    assert np.array_equal(whole.confidence, chunked.confidence, equal_nan=True) and len(whole.ids) > 7 * 10
    assert loaded.person_of(department, first.dataset, first.local_record_id) is not None  # not resolved yet
    assert len(whole.ids) == len(set(whole.ids)) == sum(len(b) for b in encoded.values())  # one gone, one new
    newest = whole.ids.index(max(whole.ids))  # rows are in name order, not in id order
    assert whole.person_ids[newest] is None and np.isnan(whole.confidence[newest])  # not resolved yet
    a, b = whole.matrix, chunked.matrix
    assert all(np.array_equal(a.blooms[f], b.blooms[f]) and np.array_equal(a.present[f], b.present[f]) for f in a.blooms)
    assert all(np.array_equal(a.tokens[k], b.tokens[k]) for k in a.tokens)
    assert (a.tokens["phone"] != 0).sum() > 0 and (a.tokens["id_number"] != 0).sum() > 0
    for column in ("sex", "birth_year", "residence_mismatch", "jurisdiction"):
        assert np.array_equal(getattr(a, column), getattr(b, column))
