"""The front door against a real grpc.aio server on loopback: statuses and messages callers see."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.auth.bearer import status_for
from hub.auth.errors import AuthError
from hub.auth.gate import CallerGate
from hub.auth.keys import GeneratedKey
from hub.config import AuthSection
from pingan.serving import grpc_errors
from pingan.v1 import profile_pb2, profile_pb2_grpc

ISSUER = "https://idp.test.pingan"  # as in conftest.py
AUDIENCE = "pingan-hub"


class FakeClock:
    """Time that moves only when told (no sleeps in tests)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FrontDoorOnly(profile_pb2_grpc.ProfileServiceServicer):
    """A ProfileService that authenticates and admits, then answers with the caller it saw."""

    def __init__(self, gate: CallerGate) -> None:
        self.gate = gate
        self.refusals: list[tuple[str, str]] = []

    @grpc_errors
    async def GetPersonProfile(self, request: Any, context: Any) -> profile_pb2.GetPersonProfileResponse:
        caller = self.gate.authenticate(context)
        try:
            self.gate.admit(caller, request.request_id)
        except AuthError as exc:
            self.refusals.append((caller.user_id, exc.reason))  # where the service will audit
            raise status_for(exc) from None
        header = profile_pb2.ProfileHeader(
            person_id=caller.user_id, jurisdiction=",".join(caller.jurisdictions)
        )
        return profile_pb2.GetPersonProfileResponse(header=header)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def served(
    signing_key: GeneratedKey, clock: FakeClock
) -> AsyncIterator[tuple[profile_pb2_grpc.ProfileServiceStub, FrontDoorOnly]]:
    auth = AuthSection(
        issuer=ISSUER, audience=AUDIENCE, jwks_file=signing_key.jwks_file, rate_per_minute=60.0, burst=2
    )
    servicer = FrontDoorOnly(CallerGate.from_config(auth, clock=clock))
    server = grpc.aio.server()
    profile_pb2_grpc.add_ProfileServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield profile_pb2_grpc.ProfileServiceStub(channel), servicer
    finally:
        await channel.close()
        await server.stop(None)


def _bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def _status(
    stub: profile_pb2_grpc.ProfileServiceStub, metadata: Any, request_id: str = ""
) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetPersonProfile(
            profile_pb2.GetPersonProfileRequest(request_id=request_id), metadata=metadata
        )
    return info.value.code(), info.value.details() or ""


async def test_valid_token_reaches_the_service_with_its_caller(
    served: Any, make_token: Callable[..., str]
) -> None:
    stub, _ = served
    reply = await stub.GetPersonProfile(
        profile_pb2.GetPersonProfileRequest(request_id="req-00000001"),
        metadata=_bearer(make_token(jurisdictions=["TH/S03/C07/G05"])),
    )
    assert reply.header.person_id == "gw-0042" and reply.header.jurisdiction == "TH/S03/C07/G05"


async def test_missing_metadata_is_unauthenticated_and_says_what_to_send(served: Any) -> None:
    code, details = await _status(served[0], None)
    assert code is grpc.StatusCode.UNAUTHENTICATED
    assert "authorization: Bearer" in details and "missing_credentials" in details


@pytest.mark.parametrize(
    ("value", "reason"),
    [("Basic dXNlcjpwYXNz", "malformed"), ("Bearer", "malformed"), ("Bearer not-a-jwt", "malformed")],
)
async def test_wrong_scheme_or_garbage_is_unauthenticated(served: Any, value: str, reason: str) -> None:
    code, details = await _status(served[0], (("authorization", value),))
    assert code is grpc.StatusCode.UNAUTHENTICATED and f"reason: {reason}" in details


async def test_expired_token_is_unauthenticated_without_traceback(
    served: Any, make_token: Callable[..., str]
) -> None:
    token = make_token(now=datetime.now(tz=UTC) - timedelta(hours=2))
    code, details = await _status(served[0], _bearer(token))
    assert code is grpc.StatusCode.UNAUTHENTICATED
    assert "expired" in details and "new one" in details
    assert "Traceback" not in details and 'File "' not in details and token not in details


async def test_forged_and_wrong_audience_tokens_are_unauthenticated(
    served: Any, make_token: Callable[..., str]
) -> None:
    forged = make_token(private_key=Ed25519PrivateKey.generate())
    assert await _status(served[0], _bearer(forged)) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "token signature does not verify; it was altered or signed with another key (reason: bad_signature)",
    )
    code, details = await _status(served[0], _bearer(make_token(audience="elsewhere")))
    assert code is grpc.StatusCode.UNAUTHENTICATED and "reason: wrong_audience" in details


async def test_two_authorization_entries_are_refused(served: Any, make_token: Callable[..., str]) -> None:
    token = make_token()
    code, details = await _status(
        served[0], (("authorization", f"Bearer {token}"), ("authorization", f"Bearer {token}"))
    )
    assert code is grpc.StatusCode.UNAUTHENTICATED and "exactly one" in details


async def test_rate_limit_is_resource_exhausted_and_refills_with_time(
    served: Any, make_token: Callable[..., str], clock: FakeClock
) -> None:
    stub, servicer = served
    metadata = _bearer(make_token())
    for _ in range(2):  # burst = 2
        await stub.GetPersonProfile(profile_pb2.GetPersonProfileRequest(), metadata=metadata)
    code, details = await _status(stub, metadata)
    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED and "retry in 1.0 s" in details
    assert servicer.refusals == [("gw-0042", "rate_limited")]
    # Another caller has their own bucket.
    await stub.GetPersonProfile(
        profile_pb2.GetPersonProfileRequest(), metadata=_bearer(make_token(user_id="gw-0043"))
    )
    clock.now += 1.0  # 60/min refills one request per second
    await stub.GetPersonProfile(profile_pb2.GetPersonProfileRequest(), metadata=metadata)


async def test_replayed_request_id_is_refused(
    served: Any, make_token: Callable[..., str], clock: FakeClock
) -> None:
    stub, servicer = served
    metadata = _bearer(make_token())
    await stub.GetPersonProfile(
        profile_pb2.GetPersonProfileRequest(request_id="req-00000007"), metadata=metadata
    )
    clock.now += 5.0
    code, details = await _status(stub, metadata, request_id="req-00000007")
    assert code is grpc.StatusCode.ALREADY_EXISTS and "new id" in details
    assert servicer.refusals == [("gw-0042", "replayed_request")]


async def test_malformed_request_id_is_invalid_argument(served: Any, make_token: Callable[..., str]) -> None:
    code, details = await _status(served[0], _bearer(make_token()), request_id="a b")
    assert code is grpc.StatusCode.INVALID_ARGUMENT and "request_id" in details
