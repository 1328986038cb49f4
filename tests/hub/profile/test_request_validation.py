"""Bad input against the real hub and adapters: INVALID_ARGUMENT (or UNAUTHENTICATED for a
token), naming the field, never echoing the value, never INTERNAL or UNAVAILABLE.

Each case here reached a wrong answer before: a trailing newline slipped past ``$``, a
phone no adapter could read became INTERNAL, an over-long one UNAVAILABLE with the
adapters' addresses, and a request or user id holding a digit run the audit log refuses
to store left the caller with "audit log is unavailable" and nothing audited.
"""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import jwt
import pytest

from pingan.v1 import profile_pb2

BAD_ANSWERS = (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE)


def _refusal(call) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


def _profile(deployment, *, purpose: str = "routine_visit", request_id: str = "", who: str = "grid_worker", **query):  # type: ignore[no-untyped-def]
    request = profile_pb2.GetPersonProfileRequest(
        query=profile_pb2.PersonQuery(**query), purpose=purpose, request_id=request_id
    )
    return deployment.stub.GetPersonProfile(request, metadata=deployment.md(who), timeout=15)


def _household(deployment, *, request_id: str = "", **query):  # type: ignore[no-untyped-def]
    request = profile_pb2.GetHouseholdRequest(
        query=profile_pb2.PersonQuery(**query), purpose="assistance", request_id=request_id
    )
    return deployment.stub.GetHousehold(request, metadata=deployment.md("grid_worker"), timeout=15)


def test_a_trailing_newline_is_invalid_argument_not_a_policy_or_lookup_answer(deployment) -> None:  # type: ignore[no-untyped-def]
    home = deployment.home
    before = deployment.audit_size()
    cases = [
        ({"purpose": "routine_visit\n", "person_id": home.person_id}, "purpose"),
        ({"person_id": home.person_id + "\n"}, "query.person_id"),
        ({"person_id": home.person_id, "request_id": "req-0001-abcd\n"}, "request_id"),
    ]
    for kwargs, field in cases:
        error = _refusal(lambda: _profile(deployment, **kwargs))  # noqa: B023
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (field, error.details())
        assert field in (error.details() or "")
    assert deployment.audit_size() == before  # nothing was asked


@pytest.mark.parametrize(
    "phone",
    [
        "1234567",  # 7 digits: no mobile, no landline
        "99999999999",  # 11 digits, not starting 13-19
        "12345678901234567890",  # 20 digits
        "13800138000" + "-" * 300,  # a readable number drowned in separators: too long
    ],
)
def test_a_phone_no_department_can_read_is_invalid_argument(deployment, phone: str) -> None:  # type: ignore[no-untyped-def]
    before = deployment.audit_size()
    for call in (lambda: _profile(deployment, phone=phone), lambda: _household(deployment, phone=phone)):
        error = _refusal(call)
        assert error.code() not in BAD_ANSWERS, error.details()
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        details = error.details() or ""
        assert "query.phone" in details
        assert phone.strip("-") not in details and "ipv4:" not in details and "127.0.0.1" not in details
    assert deployment.audit_size() == before


@pytest.mark.parametrize(
    "request_id",
    ["202405011234567890", "x-13812345678", "req_110105199003071234", "2024-05-01.130912345678901"],
)
def test_a_request_id_holding_an_id_or_phone_shaped_digit_run_is_invalid_argument(  # type: ignore[no-untyped-def]
    deployment, request_id: str
) -> None:
    home = deployment.home
    for call in (
        lambda: _profile(deployment, request_id=request_id, person_id=home.person_id),
        lambda: _household(deployment, request_id=request_id, person_id=home.person_id),
    ):
        error = _refusal(call)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
        details = error.details() or ""
        assert "request_id" in details and request_id not in details
    # The same request with a request id the audit log can store is answered and audited.
    fine = f"req-2024-05-01-{uuid.uuid4().hex[:8]}"
    ok = _profile(deployment, request_id=fine, person_id=home.person_id)
    assert ok.audit.request_id == fine


@pytest.mark.parametrize(("claim", "value"), [("sub", "13812345678"), ("sub", "emp-110105199003071234"), ("jti", "202405011234567890")])
def test_a_token_whose_user_or_token_id_holds_a_digit_run_is_unauthenticated_and_audited(  # type: ignore[no-untyped-def]
    deployment, claim: str, value: str
) -> None:
    from hub.auth.keys import load_private_key
    from pingan.cli.sandbox import AUDIENCE, ISSUER

    home, keys = deployment.home, deployment.keys
    now = int(dt.datetime.now(dt.UTC).timestamp())
    payload = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "gw-1", "jti": "tok-digit-run",
        "iat": now, "nbf": now, "exp": now + 300,
        "department": "grid_office", "roles": ["grid_worker"], "jurisdictions": [home.jurisdiction],
        claim: value,
    }  # fmt: skip
    token = jwt.encode(payload, load_private_key(keys.jwt_private), algorithm="EdDSA", headers={"kid": keys.kid})
    good = dict(payload, sub="gw-1", jti="tok-digit-run-ok")
    good_token = jwt.encode(good, load_private_key(keys.jwt_private), algorithm="EdDSA", headers={"kid": keys.kid})
    request = profile_pb2.GetPersonProfileRequest(
        query=profile_pb2.PersonQuery(person_id=home.person_id), purpose="routine_visit"
    )
    # the same token without the digit run is accepted: the audience and issuer are right
    deployment.stub.GetPersonProfile(request, metadata=(("authorization", f"Bearer {good_token}"),), timeout=15)
    before = deployment.audit_size()
    error = _refusal(
        lambda: deployment.stub.GetPersonProfile(request, metadata=(("authorization", f"Bearer {token}"),), timeout=15)
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED, error.details()
    details = error.details() or ""
    assert f"'{claim}'" in details and value not in details
    assert deployment.audit_size() == before + 1  # the auth failure is audited
