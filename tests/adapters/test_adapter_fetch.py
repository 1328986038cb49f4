"""Describe and FetchRecords over a real gRPC server, on SQLite and PostgreSQL department data."""

from __future__ import annotations

import json

import grpc
import pytest
import sqlalchemy as sa
from adapter_harness import RunningAdapter
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from adapters.server import SERVICE_NAME
from adapters.state import StateStore
from pingan.v1 import adapter_pb2, common_pb2

D = adapter_pb2.DatasetFetch


def fetch(
    adapter: RunningAdapter,
    *fetches: adapter_pb2.DatasetFetch,
    request_id: str = "req-1",
    purpose: str = "visit",
    caller: str | None = "hub-test",
) -> adapter_pb2.FetchRecordsResponse:
    metadata = [("x-pingan-caller", caller)] if caller else None
    request = adapter_pb2.FetchRecordsRequest(request_id=request_id, purpose=purpose, fetches=list(fetches))
    return adapter.stub.FetchRecords(request, metadata=metadata, timeout=30)


def refused(adapter: RunningAdapter, request: adapter_pb2.FetchRecordsRequest) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        adapter.stub.FetchRecords(request, timeout=30)
    error = info.value
    assert "Traceback" not in (error.details() or "")
    assert 'File "' not in (error.details() or "")
    return error


def log_rows(adapter: RunningAdapter) -> list[dict[str, object]]:
    return StateStore(adapter.server.state.engine).access_entries()


def values(record: common_pb2.Record) -> dict[str, object]:
    out: dict[str, object] = {}
    for field in record.fields:
        kind = field.value.WhichOneof("kind")
        if kind is None:
            out[field.name] = None
        elif kind == "date_value":
            d = field.value.date_value
            out[field.name] = (d.year, d.month, d.day)
        else:
            out[field.name] = getattr(field.value, kind)
    return out


def test_describe(adapter: RunningAdapter) -> None:
    response = adapter.stub.Describe(adapter_pb2.DescribeRequest(), timeout=30)
    assert response.department == "justice"
    assert response.display_name == "司法局"
    corrections, visits = response.datasets
    assert corrections.name == "corrections" and corrections.description == "社区矫正对象"
    # only exported fields, in declaration order; "name" is declared but not exported
    assert [f.name for f in corrections.fields] == [
        "birth_date",
        "risk_level",
        "start_date",
        "sessions_missed",
        "active",
        "notes",
    ]
    risk = corrections.fields[1]
    assert risk.type == common_pb2.VALUE_TYPE_STRING
    assert risk.classification == common_pb2.Classification(
        category=common_pb2.CATEGORY_RISK, grade=common_pb2.GRADE_L2_INTERNAL
    )
    assert risk.description == "风险等级(红/黄/蓝)"
    assert corrections.fields[5].type == common_pb2.VALUE_TYPE_TEXT
    assert list(corrections.groups) == [common_pb2.SENSITIVE_GROUP_COMMUNITY_CORRECTIONS]
    assert [f.name for f in visits.fields] == ["visit_date", "visit_notes", "subject_id"]
    assert response.linkage_scheme.version.startswith("pingan-link-")
    assert response.linkage_scheme.key_id


def test_fetch_returns_typed_values_provenance_and_missing(adapter: RunningAdapter) -> None:
    response = fetch(
        adapter,
        D(
            dataset="corrections",
            local_record_ids=["1001", "1002", "1003", "1004", "1005", "1006", "9999", "abc"],
            fields=["notes", "start_date", "active", "sessions_missed", "risk_level"],
        ),
    )
    ids = [r.provenance.local_record_id for r in response.records]
    assert ids == ["1001", "1002", "1003", "1004", "1005", "1006"]
    assert list(response.missing) == ["corrections/9999", "corrections/abc"]
    first = response.records[0]
    assert first.provenance.department == "justice" and first.provenance.dataset == "corrections"
    assert first.provenance.updated_at.ToDatetime().isoformat() == "2026-01-01T08:00:00"
    # fields in schema order, only those requested
    assert [f.name for f in first.fields] == [
        "risk_level",
        "start_date",
        "sessions_missed",
        "active",
        "notes",
    ]
    assert values(first) == {
        "risk_level": "红",
        "start_date": (2024, 3, 7),
        "sessions_missed": 0,
        "active": False,
        "notes": "第0次谈话，情绪稳定。",
    }
    assert first.fields[4].classification.grade == common_pb2.GRADE_L4_HIGHLY_SENSITIVE
    # the same date in the departments' formats; a malformed date and a NULL are absent, not guessed
    start_dates = [values(r)["start_date"] for r in response.records]
    assert start_dates == [(2024, 3, 7)] * 4 + [None, None]
    assert values(response.records[1])["active"] is True
    assert values(response.records[3])["sessions_missed"] == 3
    assert response.read_at.seconds > 0


def test_a_large_fetch_and_small_fetches_give_the_same_records(adapter: RunningAdapter) -> None:
    """Up to 16 ids go through the driver (pingan.driver_select), more through SQLAlchemy's
    expanding IN (adapters/source.py): the same rows, converted the same way, either way."""
    ids = [str(1001 + n) for n in range(12)] + [f"{9000 + n}" for n in range(8)]
    fields = ["notes", "start_date", "active", "sessions_missed", "risk_level", "birth_date"]
    large = fetch(adapter, D(dataset="corrections", local_record_ids=ids, fields=fields))
    small = [fetch(adapter, D(dataset="corrections", local_record_ids=[rid], fields=fields)) for rid in ids]
    assert len(large.records) == 12 and len(large.missing) == 8
    assert [r.SerializeToString(deterministic=True) for r in large.records] == [
        r.SerializeToString(deterministic=True) for response in small for r in response.records
    ]
    assert list(large.missing) == [m for response in small for m in response.missing]
    visits = fetch(adapter, D(dataset="visits", local_record_ids=[f"V{n:03d}" for n in range(1, 21)], fields=["visit_date"]))
    assert [r.SerializeToString(deterministic=True) for r in visits.records] == [
        r.SerializeToString(deterministic=True)
        for n in range(1, 21)
        for r in fetch(adapter, D(dataset="visits", local_record_ids=[f"V{n:03d}"], fields=["visit_date"])).records
    ]


def test_fetch_from_a_query_dataset_and_several_datasets(adapter: RunningAdapter) -> None:
    response = fetch(
        adapter,
        D(dataset="visits", local_record_ids=["V002", "V001", "V404"], fields=["subject_id", "visit_date"]),
        D(dataset="corrections", local_record_ids=["1012"], fields=["birth_date"]),
    )
    assert [(r.provenance.dataset, r.provenance.local_record_id) for r in response.records] == [
        ("visits", "V002"),
        ("visits", "V001"),
        ("corrections", "1012"),
    ]
    assert values(response.records[0]) == {"visit_date": (2025, 6, 3), "subject_id": 1003}
    assert values(response.records[1]) == {"visit_date": (2025, 6, 2), "subject_id": 1002}
    assert values(response.records[2]) == {"birth_date": (1981, 3, 11)}  # stored as "1981年3月11日"
    assert list(response.missing) == ["visits/V404"]


def test_every_fetch_is_in_the_access_log(adapter: RunningAdapter) -> None:
    fetch(
        adapter,
        D(dataset="corrections", local_record_ids=["1001", "4040"], fields=["risk_level"]),
        request_id="req-A",
        purpose="home visit",
    )
    fetch(
        adapter,
        D(dataset="visits", local_record_ids=["V001"], fields=["visit_notes"]),
        request_id="req-B",
        caller=None,
    )
    rows = log_rows(adapter)
    assert [(r["rpc"], r["request_id"], r["dataset"], r["outcome"]) for r in rows] == [
        ("FetchRecords", "req-A", "corrections", "OK"),
        ("FetchRecords", "req-B", "visits", "OK"),
    ]
    first, second = rows
    assert first["record_ids"] == ["1001", "4040"] and first["fields"] == ["risk_level"]
    assert first["record_count"] == 1 and first["purpose"] == "home visit" and first["caller"] == "hub-test"
    assert "127.0.0.1" in str(first["peer"])
    assert second["caller"] == "" and second["record_count"] == 1
    assert first["at"] is not None


def test_refusals_are_logged_too(adapter: RunningAdapter) -> None:
    refused(
        adapter,
        adapter_pb2.FetchRecordsRequest(
            request_id="req-X", fetches=[D(dataset="corrections", local_record_ids=["1001"], fields=["name"])]
        ),
    )
    (row,) = log_rows(adapter)
    assert row["outcome"] == "PERMISSION_DENIED" and row["request_id"] == "req-X" and row["record_count"] == 0
    assert row["fields"] == ["name"]


def test_empty_request(adapter: RunningAdapter) -> None:
    error = refused(adapter, adapter_pb2.FetchRecordsRequest(request_id="r"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "no fetches" in error.details()


BAD_FETCHES: list[tuple[adapter_pb2.DatasetFetch, grpc.StatusCode, str]] = [
    (
        D(dataset="prisons", local_record_ids=["1"], fields=["risk_level"]),
        grpc.StatusCode.NOT_FOUND,
        "dataset 'prisons' does not exist at department 'justice' (datasets: corrections, visits)",
    ),
    (
        D(dataset="corrections", local_record_ids=["1001"], fields=["shoe_size"]),
        grpc.StatusCode.NOT_FOUND,
        "field 'shoe_size' is not declared in dataset 'corrections'",
    ),
    (
        D(dataset="corrections", local_record_ids=["1001"], fields=["risk_level", "name"]),
        grpc.StatusCode.PERMISSION_DENIED,
        "field 'name' of dataset 'corrections' is not in the department's export",
    ),
    (
        D(dataset="corrections", local_record_ids=["1001"], fields=["nbbz"]),
        grpc.StatusCode.NOT_FOUND,
        "field 'nbbz' is not declared",
    ),
    (
        D(dataset="corrections", local_record_ids=[], fields=["risk_level"]),
        grpc.StatusCode.INVALID_ARGUMENT,
        "names no local_record_ids",
    ),
    (
        D(dataset="corrections", local_record_ids=["1001"], fields=[]),
        grpc.StatusCode.INVALID_ARGUMENT,
        "names no fields",
    ),
    (
        D(dataset="", local_record_ids=["1001"], fields=["risk_level"]),
        grpc.StatusCode.INVALID_ARGUMENT,
        "fetches[0].dataset is empty",
    ),
    (
        D(dataset="corrections", local_record_ids=["1001", ""], fields=["risk_level"]),
        grpc.StatusCode.INVALID_ARGUMENT,
        "empty local_record_id",
    ),
    (
        D(dataset="corrections", local_record_ids=[str(i) for i in range(51)], fields=["risk_level"]),
        grpc.StatusCode.INVALID_ARGUMENT,
        "asks for 51 records; this adapter serves at most 50 per request",
    ),
    (
        D(dataset="corrections", local_record_ids=["1001"], fields=["risk_level"] * 21),
        grpc.StatusCode.INVALID_ARGUMENT,
        "names 21 fields; this adapter serves at most 20 per request",
    ),
]
BAD_FETCH_NAMES = [
    "unknown dataset",
    "undeclared field",
    "not exported",
    "unexposed column",
    "no ids",
    "no fields",
    "no dataset",
    "empty id",
    "too many records",
    "too many fields",
]


def test_bad_fetches(adapter: RunningAdapter) -> None:
    # one server for all cases (each case is one refused request against it)
    assert len(BAD_FETCHES) == len(BAD_FETCH_NAMES)
    for name, (fetch_, code, fragment) in zip(BAD_FETCH_NAMES, BAD_FETCHES, strict=True):
        error = refused(adapter, adapter_pb2.FetchRecordsRequest(request_id=name, fetches=[fetch_]))
        assert error.code() == code, name
        assert fragment in error.details(), (name, error.details())
    rows = log_rows(adapter)
    assert [r["request_id"] for r in rows] == BAD_FETCH_NAMES
    assert {r["outcome"] for r in rows} == {"NOT_FOUND", "PERMISSION_DENIED", "INVALID_ARGUMENT"}


def test_oversized_request_is_refused_and_the_server_keeps_serving(adapter: RunningAdapter) -> None:
    huge = D(dataset="corrections", local_record_ids=["x" * 1000] * 5000, fields=["risk_level"])
    error = refused(adapter, adapter_pb2.FetchRecordsRequest(request_id="r", fetches=[huge]))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    response = fetch(adapter, D(dataset="corrections", local_record_ids=["1001"], fields=["risk_level"]))
    assert len(response.records) == 1


def test_database_failure_during_a_request_is_unavailable(adapter: RunningAdapter) -> None:
    engine = sa.create_engine(adapter.department_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE zfjl"))
    engine.dispose()
    error = refused(
        adapter,
        adapter_pb2.FetchRecordsRequest(
            request_id="req-U",
            fetches=[D(dataset="visits", local_record_ids=["V001"], fields=["visit_notes"])],
        ),
    )
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "department 'justice': its database is unavailable" in error.details()
    assert "zfjl" not in error.details() and "SELECT" not in error.details()
    assert log_rows(adapter)[-1]["outcome"] == "UNAVAILABLE"


def test_unreachable_postgresql_during_a_request_is_unavailable(
    adapter: RunningAdapter, pg_admin_url: str | None
) -> None:
    if not adapter.department_url.startswith("postgresql"):
        pytest.skip("needs the department data in PostgreSQL (PINGAN_TEST_PG_URL)")
    # keep the access log elsewhere so only the department database goes away
    name = sa.engine.make_url(adapter.department_url).database
    admin = sa.create_engine(pg_admin_url or "", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(
            sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        )
    try:
        error = refused(
            adapter,
            adapter_pb2.FetchRecordsRequest(
                request_id="r",
                fetches=[D(dataset="corrections", local_record_ids=["1001"], fields=["risk_level"])],
            ),
        )
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert "its database is unavailable" in error.details()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def test_access_log_failure_releases_no_data(adapter: RunningAdapter) -> None:
    engine = sa.create_engine(adapter.state_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE adapter_access_log"))
    engine.dispose()
    error = refused(
        adapter,
        adapter_pb2.FetchRecordsRequest(
            request_id="r",
            fetches=[D(dataset="corrections", local_record_ids=["1001"], fields=["risk_level"])],
        ),
    )
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "access log cannot be written" in error.details()


def test_health_and_reflection(adapter: RunningAdapter) -> None:
    health = health_pb2_grpc.HealthStub(adapter.channel)
    for service in ("", SERVICE_NAME):
        status = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10).status
        assert status == health_pb2.HealthCheckResponse.SERVING
    stub = reflection_pb2_grpc.ServerReflectionStub(adapter.channel)
    responses = list(
        stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10
        )
    )
    names = {s.name for s in responses[0].list_services_response.service}
    assert SERVICE_NAME in names and "grpc.health.v1.Health" in names


def test_log_values_are_json_lists(adapter: RunningAdapter) -> None:
    fetch(adapter, D(dataset="corrections", local_record_ids=["1001"], fields=["risk_level", "notes"]))
    engine = sa.create_engine(adapter.state_url)
    with engine.connect() as conn:
        raw = conn.execute(sa.text("SELECT record_ids, fields FROM adapter_access_log")).one()
    engine.dispose()
    assert json.loads(raw[0]) == ["1001"] and json.loads(raw[1]) == ["risk_level", "notes"]


def test_concurrent_fetches_each_get_a_log_row(adapter: RunningAdapter) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def one(n: int) -> int:
        ids = [str(1001 + (n + k) % 12) for k in range(3)]
        response = fetch(
            adapter,
            D(dataset="corrections", local_record_ids=ids, fields=["risk_level"]),
            request_id=f"c-{n}",
        )
        return len(response.records)

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(one, range(30))) == [3] * 30
    rows = log_rows(adapter)
    assert sorted(str(r["request_id"]) for r in rows) == sorted(f"c-{n}" for n in range(30))


def test_unconvertible_values_are_logged_without_the_value(
    adapter: RunningAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="adapters.values"):
        response = fetch(adapter, D(dataset="corrections", local_record_ids=["1005"], fields=["start_date"]))
    assert values(response.records[0]) == {"start_date": None}  # stored as "garbage"
    messages = [r.getMessage() for r in caplog.records if r.name == "adapters.values"]
    assert messages == ["value of corrections.start_date does not fit its declared type; sent as absent"]
    assert "garbage" not in caplog.text


def test_ids_that_cannot_exist_are_missing_not_errors(adapter: RunningAdapter) -> None:
    odd = ["99999999999999999999", "01001", "-5", " 1001", "1001"]
    response = fetch(adapter, D(dataset="corrections", local_record_ids=odd, fields=["risk_level"]))
    assert [r.provenance.local_record_id for r in response.records] == ["1001"]
    assert list(response.missing) == [f"corrections/{i}" for i in odd[:4]]
    response = fetch(
        adapter, D(dataset="visits", local_record_ids=["V001", "v001", "' OR 1=1 --"], fields=["subject_id"])
    )
    assert [r.provenance.local_record_id for r in response.records] == ["V001"]
    assert list(response.missing) == ["visits/v001", "visits/' OR 1=1 --"]


def test_a_refusal_logs_every_fetch_of_the_request(adapter: RunningAdapter) -> None:
    refused(
        adapter,
        adapter_pb2.FetchRecordsRequest(
            request_id="req-Y",
            fetches=[
                D(dataset="visits", local_record_ids=["V001"], fields=["visit_notes"]),
                D(dataset="corrections", local_record_ids=["1001"], fields=["nbbz"]),
            ],
        ),
    )
    rows = log_rows(adapter)
    assert [(r["dataset"], r["outcome"], r["record_count"]) for r in rows] == [
        ("visits", "NOT_FOUND", 0),
        ("corrections", "NOT_FOUND", 0),
    ]
    assert "field 'nbbz' is not declared" in str(rows[0]["detail"])


def test_an_empty_request_is_logged(adapter: RunningAdapter) -> None:
    refused(adapter, adapter_pb2.FetchRecordsRequest(request_id="req-E"))
    (row,) = log_rows(adapter)
    assert (row["request_id"], row["outcome"], row["dataset"]) == ("req-E", "INVALID_ARGUMENT", "")


def test_the_department_database_is_opened_read_only(adapter: RunningAdapter) -> None:
    with adapter.server.source.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM jzdx")).scalar_one() == 12
        with pytest.raises(sa.exc.DBAPIError):
            conn.execute(sa.text("DELETE FROM jzdx"))
    with adapter.server.source.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM jzdx")).scalar_one() == 12
