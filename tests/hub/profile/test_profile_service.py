"""GetPersonProfile end to end: real adapters, real hub, real audit log (issue 7).

Each outcome a caller can meet is checked with its gRPC status and, where the
issue asks for it, the audit entry it leaves behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Iterator

import grpc
import pytest

from audit.entry import AccessEntry, AuthFailureEntry, Outcome
from hub.policy.jurisdiction import RoleAssignment
from pingan.v1 import common_pb2, profile_pb2

CLEAR, MASKED, DENIED, UNAVAILABLE = (
    common_pb2.SECTION_OUTCOME_CLEAR,
    common_pb2.SECTION_OUTCOME_MASKED,
    common_pb2.SECTION_OUTCOME_DENIED,
    common_pb2.SECTION_OUTCOME_UNAVAILABLE,
)


def _code(call) -> grpc.StatusCode:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code()


def test_grid_worker_gets_one_profile_from_every_department(deployment) -> None:  # type: ignore[no-untyped-def]
    home = deployment.home
    before = deployment.audit_size()
    response = deployment.profile("grid_worker", id_number=home.id_number)
    assert response.header.person_id == home.person_id
    assert response.header.jurisdiction == home.jurisdiction
    assert {s.department for s in response.sections} == set(home.departments)
    assert all(s.outcome in (CLEAR, MASKED, DENIED) for s in response.sections)
    # the name in the header is masked to the surname, the raw ID number never comes back
    assert response.header.masked_name and "*" in response.header.masked_name
    assert home.id_number not in str(response)
    # the access was logged before the response, and the receipt points at it
    assert deployment.audit_size() > before
    entry = deployment.runtime.audit_log.entry(response.audit.entry_index).decode().entry
    assert isinstance(entry, AccessEntry)
    assert entry.person_id == home.person_id and entry.caller.user == "gw-1"
    assert entry.query_kind == "id_number" and entry.query is not None  # sealed, never plain
    assert {s.department for s in entry.sections} == set(home.departments)
    assert entry.jurisdiction == home.jurisdiction
    assert response.audit.request_id == entry.request_id


def test_the_header_name_is_masked_as_the_policy_says(deployment) -> None:  # type: ignore[no-untyped-def]
    home = deployment.home
    visit = deployment.profile("grid_worker", person_id=home.person_id)
    assert visit.header.masked_name and "*" in visit.header.masked_name  # name_surname_only, from the policy
    stats = deployment.profile("grid_worker", purpose="statistics", person_id=home.person_id)
    assert stats.header.person_id == home.person_id and stats.header.masked_name == ""  # no name for statistics


def test_records_keep_their_provenance_and_stay_separate(deployment) -> None:  # type: ignore[no-untyped-def]
    home = deployment.home
    linked: dict[str, set[tuple[str, str]]] = {}
    for ref in deployment.runtime.identity.records_of(home.person_id):
        linked.setdefault(ref.department, set()).add((ref.dataset, ref.local_record_id))
    response = deployment.profile("grid_worker", person_id=home.person_id)
    for section in response.sections:
        ids = [(r.provenance.dataset, r.provenance.local_record_id) for r in section.records]
        assert len(ids) == len(set(ids))  # each record once
        for record in section.records:
            assert record.provenance.department == section.department
            assert record.provenance.local_record_id and record.provenance.HasField("updated_at")
        shown = {dataset for dataset, _ in ids}
        # Nothing invented, nothing merged: exactly the linked records of every dataset shown.
        assert set(ids) == {(d, r) for d, r in linked.get(section.department, ()) if d in shown}
    # The premise: this resident has a department holding several records about them.
    assert any(len(s.records) >= 2 for s in response.sections)


def test_grid_worker_never_sees_health_details(deployment) -> None:  # type: ignore[no-untyped-def]
    response = deployment.profile("grid_worker", person_id=deployment.home.person_id)
    for section in response.sections:
        for record in section.records:
            for f in record.fields:
                if f.classification.category == common_pb2.CATEGORY_HEALTH:
                    assert f.classification.grade < common_pb2.GRADE_L4_HIGHLY_SENSITIVE


def test_out_of_jurisdiction_is_denied_and_audited(deployment) -> None:  # type: ignore[no-untyped-def]
    other = deployment.other
    before = deployment.audit_size()
    assert _code(lambda: deployment.profile("grid_worker", person_id=other.person_id)) == grpc.StatusCode.PERMISSION_DENIED
    entry = deployment.last_entry()
    assert deployment.audit_size() == before + 1
    assert isinstance(entry, AccessEntry) and entry.person_id == other.person_id
    assert entry.sections and all(s.outcome is Outcome.DENIED for s in entry.sections)


def test_the_tokens_jurisdictions_bound_the_callers_assignments(deployment) -> None:  # type: ignore[no-untyped-def]
    # jo-1 is assigned the whole street of the corrections subject; a token naming only
    # another community of that street reaches no one outside it, and the denial is audited.
    subject = deployment.corrections
    street = "/".join(subject.jurisdiction.split("/")[:2])
    community = "/".join(subject.jurisdiction.split("/")[:3])
    elsewhere = next(
        "/".join(r.jurisdiction.split("/")[:3])
        for r in deployment.residents
        if r.jurisdiction.startswith(street + "/") and not r.jurisdiction.startswith(community + "/")
    )
    deployment.tokens["justice_elsewhere"] = deployment.keys.token("jo-1", "justice", ["justice_officer"], [elsewhere])
    deployment.tokens["justice_here"] = deployment.keys.token("jo-1", "justice", ["justice_officer"], [community])
    before = deployment.audit_size()
    code = _code(lambda: deployment.profile("justice_elsewhere", purpose="case_handling", person_id=subject.person_id))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    entry = deployment.last_entry()
    assert deployment.audit_size() == before + 1
    assert isinstance(entry, AccessEntry) and entry.person_id == subject.person_id
    assert entry.sections and all(s.outcome is Outcome.DENIED for s in entry.sections)
    # The same assignment through a token naming the subject's own community is served.
    response = deployment.profile("justice_here", purpose="case_handling", person_id=subject.person_id)
    assert any(s.outcome in (CLEAR, MASKED) for s in response.sections)


def test_unknown_person_is_not_found_and_audited(deployment) -> None:  # type: ignore[no-untyped-def]
    before = deployment.audit_size()
    code = _code(lambda: deployment.profile("grid_worker", person_id="p-does-not-exist"))
    assert code == grpc.StatusCode.NOT_FOUND
    entry = deployment.last_entry()
    assert deployment.audit_size() == before + 1
    assert isinstance(entry, AccessEntry) and "unknown_person" in entry.flags and not entry.sections
    # an ID number nobody holds (valid check digit) is also NOT_FOUND, and not echoed
    with pytest.raises(grpc.RpcError) as info:
        deployment.profile("grid_worker", id_number="11010519491231002X")
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert "11010519491231002X" not in (info.value.details() or "")


@pytest.mark.parametrize(
    ("query", "purpose"),
    [({}, "routine_visit"), ({"id_number": "123"}, "routine_visit"), ({"person_id": "p-1234"}, ""), ({"phone": "1"}, "routine_visit")],
)
def test_malformed_requests_are_invalid_argument(deployment, query, purpose) -> None:  # type: ignore[no-untyped-def]
    assert _code(lambda: deployment.profile("grid_worker", purpose=purpose, **query)) == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("payload", [b"\x0a\x05\x12\x03\xff\xfe\xfd", b"\xff\xff\xff\xff"])
def test_an_undecodable_request_is_invalid_argument(deployment, payload: bytes) -> None:  # type: ignore[no-untyped-def]
    # query.id_number holding bad UTF-8, and bytes that are no protobuf at all
    md = deployment.md("grid_worker")
    raw = deployment.channel.unary_unary("/pingan.v1.ProfileService/GetPersonProfile")
    with pytest.raises(grpc.RpcError) as info:
        raw(payload, metadata=md, timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = info.value.details() or ""
    assert "pingan.v1.GetPersonProfileRequest" in details and "class" not in details and "Traceback" not in details
    stream = deployment.channel.unary_stream("/pingan.v1.ProfileService/WatchAlerts")
    with pytest.raises(grpc.RpcError) as info:
        list(stream(payload, metadata=md, timeout=10))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert deployment.profile("grid_worker", person_id=deployment.home.person_id).header.person_id  # still serving


def test_expired_and_forged_tokens_are_unauthenticated_and_audited(deployment, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pingan.cli.sandbox import Keys

    home = deployment.home
    expired = deployment.keys.token(
        "gw-1", "grid_office", ["grid_worker"], [home.jurisdiction], ttl=dt.timedelta(minutes=5),
        now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1),
    )
    forged = Keys.generate(tmp_path / "other").token("gw-1", "grid_office", ["grid_worker"], [home.jurisdiction])
    request = profile_pb2.GetPersonProfileRequest(
        query=profile_pb2.PersonQuery(person_id=home.person_id), purpose="routine_visit"
    )
    for token in (expired, forged, "not-a-jwt"):
        before = deployment.audit_size()
        with pytest.raises(grpc.RpcError) as info:
            deployment.stub.GetPersonProfile(request, metadata=(("authorization", f"Bearer {token}"),), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "Traceback" not in (info.value.details() or "")
        assert deployment.audit_size() == before + 1
        assert isinstance(deployment.last_entry(), AuthFailureEntry)
    with pytest.raises(grpc.RpcError) as info:
        deployment.stub.GetPersonProfile(request, timeout=10)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_justice_officer_sees_corrections_of_their_street(deployment) -> None:  # type: ignore[no-untyped-def]
    subject = deployment.corrections
    response = deployment.profile("justice", purpose="case_handling", person_id=subject.person_id)
    justice = next(s for s in response.sections if s.department == "justice")
    assert justice.outcome in (CLEAR, MASKED)
    datasets = {r.provenance.dataset for r in justice.records}
    assert "corrections" in datasets
    assert response.header.risk_level  # the header shows the risk level to the responsible officer
    # The corrections data in clear: no masking operator on any corrections field except the
    # free-text scan (names and numbers found in notes), nothing withheld.
    corrections = [
        f for r in justice.records for f in r.fields if f.classification.category == common_pb2.CATEGORY_CORRECTIONS
    ]
    assert corrections and not any(f.withheld for f in corrections)
    assert {f.masking_operator for f in corrections} <= {"", "pii_free_text"}
    assert any(f.masking_operator == "" for f in corrections)
    # What the header showed is in the entry too, with the dataset it was read from.
    entry = deployment.runtime.audit_log.entry(response.audit.entry_index).decode().entry
    sources = {f.name for s in entry.sections for f in s.fields if f.name.startswith("header:")}
    assert any(s.startswith("header:corrections") and s.endswith(".risk_level") for s in sources), sources


def test_a_department_going_down_makes_its_section_unavailable_and_comes_back(deployment) -> None:  # type: ignore[no-untyped-def]
    home = deployment.home
    assert "health" in home.departments
    deployment.adapters["health"].stop(0)
    try:
        response = deployment.profile("grid_worker", person_id=home.person_id)
        health = next(s for s in response.sections if s.department == "health")
        assert health.outcome == UNAVAILABLE and "unavailable" in health.reason
        # The caller learns what happened, not the transport's details (the adapter's address).
        assert "unreachable (UNAVAILABLE)" in health.reason
        assert not any(t in health.reason for t in ("127.0.0.1", "ipv4", "Connection refused")), health.reason
        assert any(s.outcome in (CLEAR, MASKED) for s in response.sections if s.department != "health")
        entry = deployment.runtime.audit_log.entry(response.audit.entry_index).decode().entry
        assert next(s for s in entry.sections if s.department == "health").outcome is Outcome.UNAVAILABLE
    finally:
        deployment.restart_adapter("health")
    deadline = time.monotonic() + 10
    while True:  # the breaker lets a trial call through after its reset time
        response = deployment.profile("grid_worker", person_id=home.person_id)
        health = next(s for s in response.sections if s.department == "health")
        if health.outcome != UNAVAILABLE or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert health.outcome in (CLEAR, MASKED, DENIED)


def test_an_adapter_killed_under_load_fails_only_its_sections_and_is_used_again(deployment) -> None:  # type: ignore[no-untyped-def]
    """Issue 7, faults: callers keep asking while the health adapter is killed and restarted."""
    home = deployment.home
    results: list[tuple[str, dict[str, int]]] = []  # (phase, department -> outcome); phase "error: ..." on an RPC error
    phase = {"now": "before"}
    stop = threading.Event()
    lock = threading.Lock()

    def caller() -> None:
        while not stop.is_set():
            current = phase["now"]
            try:
                response = deployment.profile("grid_worker", person_id=home.person_id)
                outcome = {s.department: s.outcome for s in response.sections}
                with lock:
                    results.append((current, outcome))
            except grpc.RpcError as exc:
                with lock:
                    results.append((f"error: {exc.code().name} {exc.details()}", {}))

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        deployment.adapters["health"].stop(0)
        phase["now"] = "down"
        time.sleep(1.5)
        deployment.restart_adapter("health")
        phase["now"] = "back"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # the breaker lets a trial through after its reset time
            with lock:
                if any(p == "back" and o.get("health") in (CLEAR, MASKED) for p, o in results[-8:]):
                    break
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    errors = [p for p, _ in results if p.startswith("error")]
    assert errors == []  # nothing else failed: every profile was served
    down = [o for p, o in results if p == "down"]
    assert down and any(o["health"] == UNAVAILABLE for o in down)
    for _, outcome in results:  # no other department ever became unavailable
        assert all(o != UNAVAILABLE for d, o in outcome.items() if d != "health")
    assert any(p == "before" and o["health"] in (CLEAR, MASKED) for p, o in results)
    assert any(p == "back" and o["health"] in (CLEAR, MASKED) for p, o in results)  # used again


def test_household_request_returns_members_as_policy_allows(deployment) -> None:  # type: ignore[no-untyped-def]
    home = deployment.home
    request = profile_pb2.GetHouseholdRequest(
        query=profile_pb2.PersonQuery(person_id=home.person_id), purpose="routine_visit"
    )
    response = deployment.stub.GetHousehold(request, metadata=deployment.md("grid_worker"), timeout=30)
    assert response.household_id
    assert home.person_id in {m.person_id for m in response.members}
    assert response.audit.request_id


def _household_member(deployment, departments: frozenset[str] = frozenset()):  # type: ignore[no-untyped-def]
    """A resident whose household has other members (and records in one of ``departments``, if given)."""
    index = deployment.runtime.identity
    return next(
        r for r in deployment.residents
        if (info := index.person(r.person_id)) is not None
        and info.household_id
        and len(index.household_members(info.household_id)) > 1
        and (not departments or departments & set(r.departments))
    )


def _grid_worker_md(deployment, user: str, grid: str) -> tuple[tuple[str, str], ...]:  # type: ignore[no-untyped-def]
    """Call metadata of a grid worker assigned ``grid``, whose token names it."""
    from hub.policy.jurisdiction import RoleAssignment

    deployment.runtime.policy_store.add_assignments([RoleAssignment(user, "grid_worker", grid)])
    deployment.runtime.admin.sync_active()
    return (("authorization", f"Bearer {deployment.keys.token(user, 'grid_office', ['grid_worker'], [grid])}"),)


@contextlib.contextmanager
def _identity_row(deployment, person_id: str, **values: object) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Change one person's row of the identity index for a test, and put it back."""
    import sqlalchemy as sa

    from hub.identity import store

    persons, engine = store.persons, deployment.runtime.identity.engine
    with engine.connect() as conn:
        row = conn.execute(sa.select(persons).where(persons.c.person_id == person_id)).mappings().one()
    old = {k: row[k] for k in values}
    with engine.begin() as conn:
        conn.execute(sa.update(persons).where(persons.c.person_id == person_id).values(**values))
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(sa.update(persons).where(persons.c.person_id == person_id).values(**old))


def test_each_household_member_has_its_own_receipt_and_relationship(deployment) -> None:  # type: ignore[no-untyped-def]
    member = _household_member(deployment, frozenset({"public_security", "civil_affairs"}))
    md = _grid_worker_md(deployment, "gw-hh2", member.jurisdiction)
    request = profile_pb2.GetHouseholdRequest(
        query=profile_pb2.PersonQuery(person_id=member.person_id), purpose="routine_visit"
    )
    response = deployment.stub.GetHousehold(request, metadata=md, timeout=30)
    assert len(response.members) >= 1
    indices = [m.audit.entry_index for m in response.members]
    assert len(set(indices)) == len(indices)
    for m in response.members:
        entry = deployment.runtime.audit_log.entry(m.audit.entry_index).decode().entry
        assert isinstance(entry, AccessEntry) and entry.person_id == m.person_id
        assert f"household:{response.household_id}" in entry.flags
        assert m.audit.request_id == response.audit.request_id
    assert response.audit.entry_index == max(indices)  # the latest of the members' entries
    # The asked-about member's public security or civil affairs record names the relation
    # to the head, a household field a grid worker sees in their own grid.
    asked = next(m for m in response.members if m.person_id == member.person_id)
    assert asked.relationship


def test_household_members_are_fetched_and_audited_only_for_their_line(deployment) -> None:  # type: ignore[no-untyped-def]
    """A household lists each member's header and relationship: the departments are asked
    for those fields only, and each member's entry records no other field as accessed."""
    import json

    import sqlalchemy as sa

    from hub.profile.household import HOUSEHOLD_FIELDS
    from hub.profile.schema import HEADER_FIELDS

    line_fields = HOUSEHOLD_FIELDS | set(HEADER_FIELDS)
    member = _household_member(deployment, frozenset({"public_security", "civil_affairs"}))
    md = _grid_worker_md(deployment, "gw-hh4", member.jurisdiction)
    # Premise: the same caller's profile of the member shows more than a household line.
    profile = deployment.stub.GetPersonProfile(
        profile_pb2.GetPersonProfileRequest(query=profile_pb2.PersonQuery(person_id=member.person_id), purpose="routine_visit"),
        metadata=md,
        timeout=15,
    )
    shown = {f.name for s in profile.sections for r in s.records for f in r.fields}
    assert shown - line_fields, shown

    request_id = "household-line-0001"
    household = deployment.runtime.identity.person(member.person_id).household_id
    response = deployment.stub.GetHousehold(
        profile_pb2.GetHouseholdRequest(household_id=household, purpose="routine_visit", request_id=request_id),
        metadata=md,
        timeout=30,
    )
    asked = next(m for m in response.members if m.person_id == member.person_id)
    assert asked.masked_name and asked.age_band and asked.relationship
    fetched: set[str] = set()
    for department in sorted(deployment.adapters):
        engine = sa.create_engine(f"sqlite:///{deployment.data / f'{department}-adapter.db'}")
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT fields FROM adapter_access_log WHERE request_id = :r AND rpc = 'FetchRecords'"),
                {"r": request_id},
            ).all()
        engine.dispose()
        fetched.update(name for (fields,) in rows for name in json.loads(fields))
    assert fetched and fetched <= line_fields, fetched - line_fields
    for m in response.members:
        entry = deployment.runtime.audit_log.entry(m.audit.entry_index).decode().entry
        assert isinstance(entry, AccessEntry) and entry.sections
        recorded = {f.name.split(".", 1)[1] for s in entry.sections for f in s.fields}
        assert recorded <= line_fields, recorded - line_fields


def test_household_members_outside_the_callers_rights_are_withheld_and_audited(deployment) -> None:  # type: ignore[no-untyped-def]
    index = deployment.runtime.identity
    member = _household_member(deployment)
    household = index.person(member.person_id).household_id
    moved = next(m for m in sorted(index.household_members(household)) if m != member.person_id)
    elsewhere = next(r.jurisdiction for r in deployment.residents if r.jurisdiction != member.jurisdiction)
    md = _grid_worker_md(deployment, "gw-hh3", member.jurisdiction)
    with _identity_row(deployment, moved, jurisdiction=elsewhere):  # one member moves to another grid, then back
        before = deployment.audit_size()
        request = profile_pb2.GetHouseholdRequest(household_id=household, purpose="routine_visit")
        response = deployment.stub.GetHousehold(request, metadata=md, timeout=30)
        listed = {m.person_id for m in response.members}
        assert member.person_id in listed and moved not in listed
        assert "members_withheld:1" in response.flags
        refusals = [
            e for i in range(before, deployment.audit_size())
            if isinstance(e := deployment.runtime.audit_log.entry(i).decode().entry, AccessEntry) and e.person_id == moved
        ]
        assert len(refusals) == 1 and all(s.outcome is Outcome.DENIED for s in refusals[0].sections)
        assert f"household:{household}" in refusals[0].flags
        # A caller who may see no member at all is refused, and audited.
        outsider = deployment.keys.token("gw-hh3", "grid_office", ["grid_worker"], [elsewhere])
        before = deployment.audit_size()
        code = _code(lambda: deployment.stub.GetHousehold(request, metadata=(("authorization", f"Bearer {outsider}"),), timeout=30))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert deployment.audit_size() > before
        # The refusal says why, as a profile's refusal would.
        no_reason = profile_pb2.GetHouseholdRequest(household_id=household, purpose="emergency")
        with pytest.raises(grpc.RpcError) as info:
            deployment.stub.GetHousehold(no_reason, metadata=md, timeout=30)
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED and "justification" in info.value.details()


def test_a_household_the_policy_withholds_is_never_shown(deployment) -> None:  # type: ignore[no-untyped-def]
    """Who a domestic-violence victim lives with is household data the policy withholds
    from a grid worker (policies/rego/authz.rego group_rules): the victim's profile lists
    no member, a household view leaves the victim out (audited), and a household view
    asked by the victim is refused before any member is fetched."""
    import sqlalchemy as sa

    index = deployment.runtime.identity
    victim = _household_member(deployment)
    household = index.person(victim.person_id).household_id
    md = _grid_worker_md(deployment, "gw-hh5", victim.jurisdiction)
    by_victim = profile_pb2.PersonQuery(person_id=victim.person_id)
    # Premise: before the person is marked, their profile lists the household.
    profile = deployment.stub.GetPersonProfile(
        profile_pb2.GetPersonProfileRequest(query=by_victim, purpose="routine_visit"), metadata=md, timeout=15
    )
    assert profile.household
    dv = str(common_pb2.SENSITIVE_GROUP_DOMESTIC_VIOLENCE_VICTIM)
    with _identity_row(deployment, victim.person_id, groups=dv):
        profile = deployment.stub.GetPersonProfile(
            profile_pb2.GetPersonProfileRequest(query=by_victim, purpose="routine_visit"), metadata=md, timeout=15
        )
        assert profile.header.person_id == victim.person_id and not profile.household
        entry = deployment.runtime.audit_log.entry(profile.audit.entry_index).decode().entry
        assert isinstance(entry, AccessEntry) and entry.household_members == ()

        before = deployment.audit_size()
        response = deployment.stub.GetHousehold(
            profile_pb2.GetHouseholdRequest(household_id=household, purpose="routine_visit"), metadata=md, timeout=30
        )
        assert victim.person_id not in {m.person_id for m in response.members}
        assert "members_withheld:1" in response.flags
        refusals = [
            e for i in range(before, deployment.audit_size())
            if isinstance(e := deployment.runtime.audit_log.entry(i).decode().entry, AccessEntry)
            and e.person_id == victim.person_id
        ]
        assert len(refusals) == 1 and "household_withheld" in refusals[0].flags

        request_id = "household-victim-0001"
        before = deployment.audit_size()
        with pytest.raises(grpc.RpcError) as info:
            deployment.stub.GetHousehold(
                profile_pb2.GetHouseholdRequest(query=by_victim, purpose="routine_visit", request_id=request_id),
                metadata=md,
                timeout=30,
            )
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "who this person lives with" in (info.value.details() or "")
        entries = [deployment.runtime.audit_log.entry(i).decode().entry for i in range(before, deployment.audit_size())]
        assert [e.person_id for e in entries if isinstance(e, AccessEntry)] == [victim.person_id]
        for department in sorted(deployment.adapters):
            engine = sa.create_engine(f"sqlite:///{deployment.data / f'{department}-adapter.db'}")
            with engine.connect() as conn:
                fetched = conn.execute(
                    sa.text("SELECT count(*) FROM adapter_access_log WHERE request_id = :r"), {"r": request_id}
                ).scalar_one()
            engine.dispose()
            assert fetched == 0, department
    # Statistics never list who lives with whom either.
    stats = deployment.stub.GetPersonProfile(
        profile_pb2.GetPersonProfileRequest(query=by_victim, purpose="statistics"), metadata=md, timeout=15
    )
    assert not stats.household
    with pytest.raises(grpc.RpcError) as info:
        deployment.stub.GetHousehold(
            profile_pb2.GetHouseholdRequest(household_id=household, purpose="statistics"), metadata=md, timeout=30
        )
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "who this person lives with" in (info.value.details() or "")


def test_a_person_in_no_household_is_not_found_and_audited(deployment) -> None:  # type: ignore[no-untyped-def]
    alone = deployment.home
    info = deployment.runtime.identity.person(alone.person_id)
    assert info is not None and info.household_id
    with _identity_row(deployment, alone.person_id, household_id=None):  # detached, then restored
        before = deployment.audit_size()
        request = profile_pb2.GetHouseholdRequest(
            query=profile_pb2.PersonQuery(person_id=alone.person_id), purpose="routine_visit"
        )
        code = _code(lambda: deployment.stub.GetHousehold(request, metadata=deployment.md("grid_worker"), timeout=30))
        assert code == grpc.StatusCode.NOT_FOUND
        assert deployment.audit_size() == before + 1
        entry = deployment.last_entry()
        assert isinstance(entry, AccessEntry) and entry.person_id == alone.person_id and "no_household" in entry.flags


def test_household_members_listed_with_a_profile_are_in_its_audit_entry(deployment) -> None:  # type: ignore[no-untyped-def]
    member = _household_member(deployment)
    md = _grid_worker_md(deployment, "gw-hh", member.jurisdiction)
    request = profile_pb2.GetPersonProfileRequest(
        query=profile_pb2.PersonQuery(person_id=member.person_id), purpose="routine_visit"
    )
    response = deployment.stub.GetPersonProfile(request, metadata=md, timeout=15)
    listed = tuple(m.person_id for m in response.household)
    assert listed and member.person_id not in listed
    entry = deployment.runtime.audit_log.entry(response.audit.entry_index).decode().entry
    assert isinstance(entry, AccessEntry)
    assert entry.household_members == tuple(sorted(listed))


def test_sharing_stats_come_from_the_audit_log(deployment) -> None:  # type: ignore[no-untyped-def]
    deployment.profile("grid_worker", person_id=deployment.home.person_id)
    stats = deployment.stub.SharingStats(profile_pb2.SharingStatsRequest(), metadata=deployment.md("auditor"), timeout=30)
    pairs = {(p.requesting_department, p.providing_department): p for p in stats.pairs}
    assert ("grid_office", "public_security") in pairs
    for p in stats.pairs:
        total = p.clear + p.masked + p.denied + p.unavailable
        assert p.sharing_rate == pytest.approx((p.clear + p.masked) / total)
    assert stats.requests > 0 and stats.latency_p50_ms > 0
    # a grid worker may not read them, and the refusal is audited
    before = deployment.audit_size()
    with pytest.raises(grpc.RpcError) as info:
        deployment.stub.SharingStats(profile_pb2.SharingStatsRequest(), metadata=deployment.md("grid_worker"), timeout=10)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    entry = deployment.last_entry()
    assert deployment.audit_size() == before + 1
    assert isinstance(entry, AccessEntry) and {"denied", "sharing_stats"} <= set(entry.flags) and not entry.sections
    assert entry.caller.roles == ("grid_worker",) and entry.purpose == "sharing_stats"


def _forge_roles(token: str) -> str:
    """Edit the payload's roles and keep the original signature."""
    import base64
    import json

    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["department_system"]
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{edited}.{signature}"


def test_sharing_stats_count_only_the_callers_jurisdictions(deployment) -> None:  # type: ignore[no-untyped-def]
    from google.protobuf.timestamp_pb2 import Timestamp

    home = deployment.home
    deployment.profile("grid_worker", person_id=home.person_id)
    deployment.profile("justice", purpose="case_handling", person_id=deployment.corrections.person_id)
    street = "/".join(home.jurisdiction.split("/")[:2])

    def stats(token: str, **fields):  # type: ignore[no-untyped-def]
        return deployment.stub.SharingStats(
            profile_pb2.SharingStatsRequest(**fields), metadata=(("authorization", f"Bearer {token}"),), timeout=30
        )

    officer = deployment.keys.token("so-1", "street_office", ["street_officer"], [street])
    report = stats(officer)
    assert report.requests > 0 and report.jurisdictions
    assert all(j.jurisdiction == street or j.jurisdiction.startswith(street + "/") for j in report.jurisdictions)
    other_street = next(
        "/".join(r.jurisdiction.split("/")[:2]) for r in deployment.residents if not r.jurisdiction.startswith(street + "/")
    )
    with pytest.raises(grpc.RpcError) as info:
        stats(officer, jurisdiction=other_street)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED and "outside your credential" in info.value.details()
    refused = deployment.last_entry()
    assert isinstance(refused, AccessEntry) and "sharing_stats" in refused.flags and refused.jurisdiction == other_street
    for malformed in ("TH//x", "a/b/c/d/e", "TH/S 03", "x" * 300):
        assert _code(lambda: stats(officer, jurisdiction=malformed)) == grpc.StatusCode.INVALID_ARGUMENT
    nowhere = deployment.keys.token("so-2", "street_office", ["street_officer"], [])
    assert _code(lambda: stats(nowhere)) == grpc.StatusCode.PERMISSION_DENIED
    # An auditor whose credential names no jurisdiction counts the whole hub.
    everywhere = stats(deployment.keys.token("aud-2", "audit_office", ["auditor"], []))
    assert everywhere.requests >= report.requests
    assert {j.jurisdiction for j in everywhere.jurisdictions} > {j.jurisdiction for j in report.jurisdictions}
    # A time out of range is the caller's to correct, not an internal error.
    for bad in (Timestamp(seconds=-(10**12)), Timestamp(seconds=10**12), Timestamp(seconds=1, nanos=-5)):
        with pytest.raises(grpc.RpcError) as info:
            stats(officer, since=bad)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "since" in info.value.details()


def test_wrong_audience_and_edited_roles_are_unauthenticated_and_audited(deployment) -> None:  # type: ignore[no-untyped-def]
    from hub.auth.issuer import issue_token
    from hub.auth.keys import load_private_key

    home = deployment.home
    keys = deployment.keys
    wrong_audience = issue_token(
        load_private_key(keys.jwt_private), kid=keys.kid, issuer="https://idp.sandbox.pingan/", audience="another-system",
        user_id="gw-1", department="grid_office", roles=["grid_worker"], jurisdictions=[home.jurisdiction],
        ttl=dt.timedelta(minutes=5),
    )
    request = profile_pb2.GetPersonProfileRequest(query=profile_pb2.PersonQuery(person_id=home.person_id), purpose="routine_visit")
    for token, reason in ((wrong_audience, "wrong_audience"), (_forge_roles(deployment.tokens["grid_worker"]), "bad_signature")):
        before = deployment.audit_size()
        with pytest.raises(grpc.RpcError) as info:
            deployment.stub.GetPersonProfile(request, metadata=(("authorization", f"Bearer {token}"),), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert reason in (info.value.details() or "")
        entry = deployment.last_entry()
        assert deployment.audit_size() == before + 1 and isinstance(entry, AuthFailureEntry) and reason in entry.reason


def test_a_replayed_request_id_is_refused(deployment) -> None:  # type: ignore[no-untyped-def]
    request = profile_pb2.GetPersonProfileRequest(
        query=profile_pb2.PersonQuery(person_id=deployment.home.person_id), purpose="routine_visit", request_id="replay-test-0001"
    )
    deployment.stub.GetPersonProfile(request, metadata=deployment.md("grid_worker"), timeout=15)
    before = deployment.audit_size()
    with pytest.raises(grpc.RpcError) as info:
        deployment.stub.GetPersonProfile(request, metadata=deployment.md("grid_worker"), timeout=15)
    assert info.value.code() == grpc.StatusCode.ALREADY_EXISTS
    entry = deployment.last_entry()
    assert deployment.audit_size() == before + 1
    assert isinstance(entry, AuthFailureEntry) and entry.reason.startswith("replayed_request")
    assert entry.request_id == "replay-test-0001"


def test_stats_sharing_command_reads_the_audit_log(deployment) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    deployment.profile("grid_worker", person_id=deployment.home.person_id)
    cli = [sys.executable, "-c", "import sys; from pingan.cli import main; sys.exit(main(sys.argv[1:]))"]
    result = subprocess.run(
        [*cli, "stats", "sharing", "--config", str(deployment.root / "hub.toml"), "--jurisdiction", deployment.home.jurisdiction],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "grid_office" in result.stdout and "public_security" in result.stdout and "%" in result.stdout
    bad = subprocess.run([*cli, "stats", "sharing", "--config", str(deployment.root / "hub.toml"), "--since", "yesterday"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr


def test_the_running_hub_keeps_its_long_lived_heap_out_of_full_collections(deployment) -> None:  # type: ignore[no-untyped-def]
    """pingan/heap.py: start() and link() freeze what survived, so a full collection walks only
    what requests allocate (its pauses set the profile p99 before; docs/benchmarks.md)."""
    import gc

    assert gc.get_freeze_count() > 10_000
    deployment.runtime.link()
    assert gc.get_freeze_count() > 10_000


def test_a_decision_not_in_the_memo_is_evaluated_off_the_event_loop(deployment) -> None:  # type: ignore[no-untyped-def]
    """The plan runs on the event loop for an SQLite index, but a Rego evaluation (native
    code for milliseconds, an HTTP call with OPA) must not stall every other request: a
    memo miss sends the step to a worker thread. The same request again is decided from
    the memo, with no evaluation at all."""
    from hub.policy.memo import DecisionMemo

    runtime = deployment.runtime
    # premises: an SQLite index, its lookup state built, every department described (so the
    # whole step, decisions included, would run on the loop if nothing sent it away)
    assert runtime.identity.engine.dialect.name == "sqlite"
    deployment.profile("grid_worker", person_id=deployment.home.person_id)
    assert runtime.identity.ready and all(runtime.clients[d].described is not None for d in deployment.home.departments)
    threads: list[str] = []
    rego = runtime.pdp.policy.rego
    evaluate = rego.evaluate

    def watched(entrypoint: str, given: object) -> object:
        threads.append(threading.current_thread().name)
        return evaluate(entrypoint, given)

    index = runtime.identity
    records_of = index.records_of
    read_on: list[str] = []

    def reading(person_id: str) -> object:
        read_on.append(threading.current_thread().name)
        return records_of(person_id)

    # cold memos (Rego outputs and finished decisions): every decision needs Rego
    memo, runtime.pdp._memo = runtime.pdp._memo, DecisionMemo(1000)
    verdicts, runtime.pdp._verdicts = runtime.pdp._verdicts, DecisionMemo(1000)
    rego.evaluate = watched
    index.records_of = reading  # type: ignore[method-assign]
    try:
        first = deployment.profile("grid_worker", person_id=deployment.home.person_id)
        assert threads and deployment.loop.thread.name not in threads
        evaluated = len(threads)
        # each missing decision evaluated once (each is one memo entry now), all in one
        # worker-thread hop; the step itself (reads included) ran on the loop, before and
        # after that hop
        assert evaluated == len(runtime.pdp._memo) and len(set(threads)) == 1
        assert read_on == [deployment.loop.thread.name] * 2
        again = deployment.profile("grid_worker", person_id=deployment.home.person_id)
        assert len(threads) == evaluated  # from the memo: no evaluation, on no thread
    finally:
        rego.evaluate = evaluate
        index.records_of = records_of  # type: ignore[method-assign]
        runtime.pdp._memo, runtime.pdp._verdicts = memo, verdicts
    assert [(s.department, s.outcome) for s in again.sections] == [(s.department, s.outcome) for s in first.sections]


def test_a_repeated_profile_is_decided_from_remembered_verdicts(deployment) -> None:  # type: ignore[no-untyped-def]
    """The hub's decision point remembers finished decisions ([policy] verdict_entries): the
    same caller asking the same question again is decided without Casbin or Rego, and
    gets the same sections (hub/policy/verdicts.py)."""
    pdp = deployment.runtime.pdp
    assert pdp._verdicts is not None and pdp._verdicts._size == deployment.runtime.config.policy.verdict_entries
    first = deployment.profile("grid_worker", person_id=deployment.home.person_id)
    hits, misses = pdp.verdict_stats
    rego = pdp.memo_stats
    again = deployment.profile("grid_worker", person_id=deployment.home.person_id)
    assert pdp.verdict_stats[1] == misses and pdp.verdict_stats[0] >= hits + 1 + len(first.sections) - 1
    assert pdp.memo_stats == rego  # the Rego memo was not even asked
    assert [(s.department, s.outcome, len(s.records)) for s in again.sections] == [
        (s.department, s.outcome, len(s.records)) for s in first.sections
    ]


def test_the_header_shows_sex_and_age_band_only_as_the_sections_do(deployment) -> None:  # type: ignore[no-untyped-def]
    """A minor's identity fields are pseudonymised for a grid worker (the policy's group
    rules): the header must not show the sex that every section hides."""
    district = deployment.home.jurisdiction.split("/")[0]
    deployment.runtime.policy_store.add_assignments([RoleAssignment("gw-district", "grid_worker", district)])
    deployment.runtime.admin.sync_active()
    deployment.tokens["gw-district"] = deployment.keys.token("gw-district", "grid_office", ["grid_worker"], [district])
    minors = [
        r for r in deployment.residents
        if common_pb2.SENSITIVE_GROUP_MINOR in r.groups and r.jurisdiction.startswith(district + "/")
    ][:5]
    hidden = 0
    for resident in minors:
        response = deployment.profile("gw-district", person_id=resident.person_id)
        sexes = [f for s in response.sections for r in s.records for f in r.fields if f.name == "sex"]
        if sexes and all(f.masking_operator or f.withheld for f in sexes):
            hidden += 1
            assert response.header.sex == "", resident.person_id
    assert hidden, "premise: some minor's sex is masked in every section"
    adult = deployment.home  # no sensitive group: sex shown clear, and in the header
    assert deployment.profile("gw-district", person_id=adult.person_id).header.sex in ("M", "F")


def test_an_adapter_back_with_a_narrower_export_is_described_again(deployment) -> None:  # type: ignore[no-untyped-def]
    """A department restarts its adapter without a field the hub had planned to fetch: the
    refused fetch makes the hub describe the adapter again, so later profiles are served
    from the new schema instead of the section staying unavailable until a hub restart."""
    from adapters.server import AdapterServer
    from pingan.cli.sandbox import adapter_config

    name, home = "public_security", deployment.home

    def section() -> profile_pb2.DepartmentSection:
        response = deployment.profile("grid_worker", person_id=home.person_id)
        return next(s for s in response.sections if s.department == name)

    before = section()
    assert any(f.name == "phone" for r in before.records for f in r.fields), "premise: the phone is shown"
    deployment.adapters[name].stop(0)
    path = adapter_config(name, deployment.root / "adapters", deployment.ports[name], witness_key=deployment.keys.signing_vkey)
    text = path.read_text(encoding="utf-8")
    narrower = text.replace('    "phone",\n    "population_type",', '    "population_type",', 1)
    assert narrower != text
    path.write_text(narrower, encoding="utf-8")
    server = AdapterServer.from_config(path)
    server.start()
    deployment.adapters[name] = server
    try:
        first = section()  # planned from the old description: refused by the adapter
        assert first.outcome == UNAVAILABLE and "(PERMISSION_DENIED)" in first.reason, first.reason
        again = section()
        assert again.outcome in (CLEAR, MASKED), again.reason
        assert again.records and not any(f.name == "phone" for r in again.records for f in r.fields)
    finally:
        deployment.adapters[name].stop(0)
        deployment.restart_adapter(name)
        deployment.runtime.clients[name].forget_description()


def test_a_department_whose_linked_datasets_are_withdrawn_is_unavailable_not_denied(deployment) -> None:  # type: ignore[no-untyped-def]
    """Departments that describe none of the datasets the hub linked the person in (withdrawn
    since linkage): nothing was decided, so their sections are unavailable with the reason,
    not 'denied by policy' (which would count against the policy in the sharing figures)."""
    from hub.policy.model import Subject
    from hub.profile.assembly import WITHDRAWN, PlanRequest, ProfileAssembler

    runtime = deployment.runtime
    assembler = ProfileAssembler(runtime.clients, runtime.pdp, runtime.masking)
    person = runtime.identity.person(deployment.home.person_id)
    records = runtime.identity.records_of(person.person_id)
    described = {ref.department: ({}, "") for ref in records}  # each answers Describe, none of those datasets
    subject = Subject("gw-1", "grid_office", ("grid_worker",), (deployment.home.jurisdiction,))
    asked = PlanRequest(subject, "routine_visit", "", "req-withdrawn-0001", dt.datetime.now(dt.UTC))
    plans, _, recorded = assembler._decide(asked, person, records, described)
    recorded.result(timeout=10)
    assert plans and all(p.unavailable == WITHDRAWN and not p.datasets for p in plans)
