"""A request that is not the method's message answers INVALID_ARGUMENT (pingan/decoding.py)."""

from __future__ import annotations

import grpc
import pytest
from adapter_harness import RunningAdapter

from pingan.v1 import adapter_pb2

# Field 1 (request_id, a string) holding bad UTF-8,
# and bytes that are no protobuf at all.
BAD_UTF8 = b"\x0a\x03\xff\xfe\xfd"
GARBAGE = b"\xff\xff\xff\xff"


@pytest.mark.parametrize("payload", [BAD_UTF8, GARBAGE])
def test_an_undecodable_request_is_invalid_argument_and_the_adapter_keeps_serving(
    adapter: RunningAdapter, payload: bytes
) -> None:
    raw = adapter.channel.unary_unary("/pingan.v1.DepartmentAdapter/FetchRecords")
    with pytest.raises(grpc.RpcError) as info:
        raw(payload, timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = info.value.details() or ""
    assert "pingan.v1.FetchRecordsRequest" in details and "Traceback" not in details
    # The same server answers a well-formed request as before.
    stream = adapter.channel.unary_stream("/pingan.v1.DepartmentAdapter/StreamLinkage")
    with pytest.raises(grpc.RpcError) as info:
        list(stream(GARBAGE, timeout=10))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert adapter.stub.Describe(adapter_pb2.DescribeRequest(), timeout=10).department


def test_the_guard_wraps_each_method_once_and_leaves_request_streams_alone() -> None:
    from collections import namedtuple

    from pingan.decoding import DecodeGuard, Undecodable

    details = namedtuple("details", "method invocation_metadata")("/pingan.v1.DepartmentAdapter/Describe", ())
    handler = grpc.unary_unary_rpc_method_handler(
        lambda request, context: request, request_deserializer=adapter_pb2.DescribeRequest.FromString
    )
    guard = DecodeGuard()
    first = guard.intercept_service(lambda d: handler, details)
    assert guard.intercept_service(lambda d: handler, details) is first  # built once per method
    marker = first.request_deserializer(GARBAGE)
    assert isinstance(marker, Undecodable) and marker.message_type == "pingan.v1.DescribeRequest"
    assert first.request_deserializer(b"") == adapter_pb2.DescribeRequest()
    other = grpc.unary_unary_rpc_method_handler(lambda request, context: request)
    assert guard.intercept_service(lambda d: other, details) is not first  # a new handler underneath: rebuilt
    streaming = grpc.stream_stream_rpc_method_handler(lambda requests, context: requests)
    assert guard.intercept_service(lambda d: streaming, details) is streaming
