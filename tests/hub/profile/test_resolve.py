"""PersonResolver when no department can tokenise a query: real adapter clients calling
loopback ports where nothing listens.

The caller hears department and status names only, never an adapter's address or the
transport's details, which go to the hub's log; a raw query value reaches neither.
(Unreadable values, INVALID_ARGUMENT, are tested end to end against the real adapters in
test_request_validation.py.)
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import grpc
import pytest

from hub.departments.client import AdapterEndpoint, DepartmentClient
from hub.identity.index import IdentityIndex
from hub.profile.request import PersonLookup
from hub.profile.resolve import PersonResolver
from pingan.serving import StatusError
from pingan.v1 import linkage_pb2


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_adapters_are_unavailable_naming_departments_and_status_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    clients = [
        DepartmentClient(AdapterEndpoint(name, f"127.0.0.1:{_closed_port()}", deadline_ms=300, retries=0))
        for name in ("civil_affairs", "justice")
    ]
    resolver = PersonResolver(IdentityIndex(f"sqlite:///{tmp_path / 'hub.db'}"), clients)
    lookup = PersonLookup("phone", identity=linkage_pb2.IdentityQuery(phone="13800138000"))
    try:
        with pytest.raises(StatusError) as info:
            await resolver.resolve(lookup, "req-test-0001")
    finally:
        for client in clients:
            await client.close()
    error = info.value
    assert error.code == grpc.StatusCode.UNAVAILABLE
    assert error.message == (
        "no department adapter could tokenise the query (civil_affairs: UNAVAILABLE; justice: UNAVAILABLE); "
        "retry later"
    )
    assert "127.0.0.1" in caplog.text  # the details are the operator's, in the log
    assert "13800138000" not in caplog.text and "13800138000" not in error.message
