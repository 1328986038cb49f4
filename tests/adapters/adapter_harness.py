"""A real adapter on a loopback port, for the adapter tests (imported by name, not via conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from adapters.server import AdapterServer
from pingan.v1 import adapter_pb2_grpc


@dataclass
class RunningAdapter:
    server: AdapterServer
    channel: grpc.Channel
    stub: adapter_pb2_grpc.DepartmentAdapterStub
    config_path: Path
    department_url: str
    state_url: str


def start_adapter(config_path: Path, department_url: str, state_url: str) -> RunningAdapter:
    server = AdapterServer.from_config(config_path)
    server.start()
    channel = grpc.insecure_channel(server.address)
    return RunningAdapter(
        server,
        channel,
        adapter_pb2_grpc.DepartmentAdapterStub(channel),
        config_path,
        department_url,
        state_url,
    )
