"""StreamLinkage (incremental, resumable across a restart) and Tokenize over a real gRPC server."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
import sqlalchemy as sa
from adapter_department import SECRET, id_number, jzdx, subjects
from adapter_harness import RunningAdapter, start_adapter

from adapters.linkage.encoder import LinkageEncoder
from adapters.linkage.fields import IdentityFields
from adapters.state import StateStore
from pingan.v1 import adapter_pb2, common_pb2, linkage_pb2


def stream(
    adapter: RunningAdapter, watermark: str = "", batch: int = 0, caller: str = "hub-test"
) -> list[adapter_pb2.StreamLinkageResponse]:
    request = adapter_pb2.StreamLinkageRequest(after_watermark=watermark, batch_size=batch)
    return list(adapter.stub.StreamLinkage(request, metadata=[("x-pingan-caller", caller)], timeout=30))


def keys(responses: list[adapter_pb2.StreamLinkageResponse]) -> list[tuple[str, str]]:
    return [(r.dataset, r.local_record_id) for resp in responses for r in resp.records]


def test_full_stream_encodes_every_record(adapter: RunningAdapter) -> None:
    responses = stream(adapter, batch=5)
    got = keys(responses)
    assert len(got) == 12 + 20 and len(set(got)) == len(got)
    assert [len(r.records) for r in responses] == [5, 5, 2, 5, 5, 5, 5]
    records = {(r.dataset, r.local_record_id): r for resp in responses for r in resp.records}
    # rows without an update time come first, then by (updated_at, id)
    assert got[:2] == [("corrections", "1004"), ("corrections", "1008")]
    first = records[("corrections", "1001")]
    assert first.jurisdiction == "TH/S01/C01/G01"
    assert list(first.groups) == [
        common_pb2.SENSITIVE_GROUP_COMMUNITY_CORRECTIONS,
        common_pb2.SENSITIVE_GROUP_DRUG_INVOLVED,
    ]
    assert list(records[("corrections", "1002")].groups) == [common_pb2.SENSITIVE_GROUP_COMMUNITY_CORRECTIONS]
    assert first.updated_at.ToDatetime() == dt.datetime(2026, 1, 1, 8, 0)
    assert not records[("corrections", "1004")].HasField("updated_at")
    # the encoding is the linkage package's, with the same secret
    row = subjects()[0]
    expected = LinkageEncoder(SECRET).encode(
        IdentityFields(
            name=str(row["xm"]),
            id_number=str(row["sfzh"]),
            birth_date=str(row["csrq"]),
            sex=str(row["xb"]),
            phone=str(row["sjhm"]),
        )
    )
    assert first.encoding == expected
    assert {t.kind for t in first.encoding.exact} >= {"id_number", "phone", "name_birth"}
    # visits carry no identity columns: empty encodings but jurisdiction from the JOIN
    assert records[("visits", "V000")].jurisdiction == "TH/S01/C01/G01"
    assert not records[("visits", "V000")].encoding.exact


def test_resume_after_a_restart_has_no_gaps_or_repeats(adapter: RunningAdapter) -> None:
    full = keys(stream(adapter, batch=4))
    call = adapter.stub.StreamLinkage(adapter_pb2.StreamLinkageRequest(batch_size=4), timeout=30)
    first_two = [next(call), next(call)]
    call.cancel()
    adapter.channel.close()
    adapter.server.stop(grace=None)
    restarted = start_adapter(adapter.config_path, adapter.department_url, adapter.state_url)
    adapter.server, adapter.channel, adapter.stub = restarted.server, restarted.channel, restarted.stub
    rest = stream(adapter, watermark=first_two[-1].watermark, batch=4)
    assert keys(first_two) + keys(rest) == full


def test_an_up_to_date_client_gets_only_changes(adapter: RunningAdapter) -> None:
    responses = stream(adapter, batch=100)
    watermark = responses[-1].watermark
    nothing = stream(adapter, watermark=watermark)
    assert keys(nothing) == [] and nothing[-1].watermark == watermark
    engine = sa.create_engine(adapter.department_url)
    with engine.begin() as conn:
        conn.execute(jzdx.update().where(jzdx.c.dxbh == 1002).values(fxdj="红", gxsj=dt.datetime(2026, 2, 1)))
        conn.execute(jzdx.update().where(jzdx.c.dxbh == 1004).values(gxsj=dt.datetime(2026, 2, 2)))
        conn.execute(
            jzdx.insert().values(
                dxbh=2001,
                xm="新人",
                sfzh=id_number("330102", "20100101", 1),
                csrq="2010-01-01",
                gxsj=dt.datetime(2026, 2, 3),
            )
        )
    engine.dispose()
    changed = stream(adapter, watermark=watermark)
    assert keys(changed) == [("corrections", "1002"), ("corrections", "1004"), ("corrections", "2001")]


def test_last_served_position_is_kept_in_the_state_database(adapter: RunningAdapter) -> None:
    responses = stream(adapter, batch=10, caller="hub-A")
    positions = StateStore(adapter.server.state.engine).positions()
    assert positions["hub-A"]["watermark"] == responses[-1].watermark
    assert positions["hub-A"]["records_served"] == 32
    entries = StateStore(adapter.server.state.engine).access_entries()
    assert [(e["rpc"], e["caller"], e["detail"]) for e in entries] == [("StreamLinkage", "hub-A", "full")]


BAD_WATERMARKS = [
    ("garbage", "does not start with 'w1.'"),
    ("w1.!!!!", "not valid base64url-encoded JSON"),
    ("w1.eyJ4IjoxfQ", "watermark has no positions"),  # {"x":1}
    ("w1.eyJwIjp7ImEiOlsibm8iLG51bGwsbnVsbF19fQ", "position of dataset 'a' is malformed"),
    ("w1.eyJwIjp7ImEiOlsidHMiLFsiZHQiLCJub3QgYSBkYXRlIl0sbnVsbF19fQ", "of type 'dt' does not parse"),
    ("w1." + "A" * 70000, "at most 65536 are accepted"),
]


def test_malformed_watermarks(adapter: RunningAdapter) -> None:
    for watermark, fragment in BAD_WATERMARKS:
        with pytest.raises(grpc.RpcError) as info:
            stream(adapter, watermark=watermark)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, fragment
        assert fragment in info.value.details()
        assert "Traceback" not in info.value.details()
    # the server still streams after all of them
    assert len(keys(stream(adapter))) == 32


def test_bad_batch_size(adapter: RunningAdapter) -> None:
    with pytest.raises(grpc.RpcError) as info:
        stream(adapter, batch=-1)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "batch_size must be between 0" in info.value.details()


def test_tokenize_matches_the_stream_and_logs_no_values(adapter: RunningAdapter) -> None:
    row = subjects()[4]
    query = linkage_pb2.IdentityQuery(
        id_number=str(row["sfzh"]), name=str(row["xm"]), birth_date="1974-05-14"
    )
    response = adapter.stub.Tokenize(adapter_pb2.TokenizeRequest(request_id="tok-1", query=query), timeout=30)
    streamed = {r.local_record_id: r for resp in stream(adapter) for r in resp.records}["1005"]
    by_kind = {t.kind: t.token for t in response.encoding.exact}
    streamed_by_kind = {t.kind: t.token for t in streamed.encoding.exact}
    assert by_kind["id_number"] == streamed_by_kind["id_number"]
    assert by_kind["name_birth"] == streamed_by_kind["name_birth"]
    entries = StateStore(adapter.server.state.engine).access_entries()
    tokenize = [e for e in entries if e["rpc"] == "Tokenize"]
    assert len(tokenize) == 1
    assert (
        tokenize[0]["fields"] == ["id_number", "name", "birth_date"] and tokenize[0]["request_id"] == "tok-1"
    )
    dump = repr(entries)
    for raw in (str(row["sfzh"]), str(row["xm"]), "1974-05-14"):
        assert raw not in dump


def test_tokenize_with_nothing_given(adapter: RunningAdapter) -> None:
    with pytest.raises(grpc.RpcError) as info:
        adapter.stub.Tokenize(adapter_pb2.TokenizeRequest(request_id="t"), timeout=30)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "query is empty" in info.value.details()


def test_tokenize_value_too_long(adapter: RunningAdapter) -> None:
    query = linkage_pb2.IdentityQuery(name="张" * 300)
    with pytest.raises(grpc.RpcError) as info:
        adapter.stub.Tokenize(adapter_pb2.TokenizeRequest(query=query), timeout=30)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "query.name is longer than 256" in info.value.details()
    assert "张张" not in info.value.details()
