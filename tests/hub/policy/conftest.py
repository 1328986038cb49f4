"""Fixtures of the policy tests: the repository's policy bundle, a local OPA
stand-in (real HTTP server evaluating with the real OPA engine) and engine
factories for both Rego engines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hub.policy.bundle import PolicyBundle, default_policy_dir


@pytest.fixture(scope="session")
def policy_bundle() -> PolicyBundle:
    return PolicyBundle.from_directory(default_policy_dir())


@pytest.fixture(scope="session")
def opa_server() -> Iterator[Any]:
    from hub.policy.opa_dev_server import OpaDevServer

    server = OpaDevServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "opa"])
def engine_factory(request: pytest.FixtureRequest) -> Callable[[PolicyBundle], Any]:
    if request.param == "embedded":
        from hub.policy.rego_embedded import EmbeddedRego

        return EmbeddedRego
    from hub.policy.rego_opa import OpaRego, client_for

    client = client_for(request.getfixturevalue("opa_server").url)
    return lambda bundle: OpaRego(bundle, client)

