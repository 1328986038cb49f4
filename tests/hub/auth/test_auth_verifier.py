"""Caller tokens: the good one is accepted, every kind of bad one is refused with its reason."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.auth.caller import Caller
from hub.auth.errors import AuthError
from hub.auth.keys import GeneratedKey, generate_signing_key, load_private_key
from hub.auth.keyset import load_key_set
from hub.auth.verifier import TokenVerifier, VerifierSettings

MakeToken = Callable[..., str]
ISSUER = "https://idp.test.pingan"  # as in conftest.py
AUDIENCE = "pingan-hub"


def utc_now() -> datetime:
    return datetime.now(tz=UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def _reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(AuthError) as info:
        verifier.verify(token)
    return info.value.reason


def test_valid_token_gives_the_caller_it_states(verifier: TokenVerifier, make_token: MakeToken) -> None:
    token = make_token(
        roles=["community_police", "grid_worker"], jurisdictions=["TH/S03", "TH/S04/C01"], token_id="tok-1"
    )
    caller = verifier.verify(token)
    assert caller == Caller(
        user_id="gw-0042",
        department="street_office",
        roles=("community_police", "grid_worker"),
        jurisdictions=("TH/S03", "TH/S04/C01"),
        token_id="tok-1",
        expires_at=caller.expires_at,
    )
    assert timedelta(minutes=14) < caller.expires_at - utc_now() <= timedelta(minutes=15)
    assert caller.covers("TH/S03/C07/G05") and caller.covers("TH/S04/C01")
    assert not caller.covers("TH/S04/C02") and not caller.covers("TH/S030")


def test_each_token_gets_its_own_id(verifier: TokenVerifier, make_token: MakeToken) -> None:
    assert verifier.verify(make_token()).token_id != verifier.verify(make_token()).token_id


def test_expired_token_is_refused(verifier: TokenVerifier, make_token: MakeToken) -> None:
    token = make_token(now=utc_now() - timedelta(hours=1), ttl=timedelta(minutes=15))
    assert _reason(verifier, token) == "expired"


def test_expiry_within_leeway_is_accepted(verifier: TokenVerifier, make_token: MakeToken) -> None:
    # Expired 10 s ago; the default leeway is 30 s (clock skew between issuer and hub).
    token = make_token(now=utc_now() - timedelta(seconds=70), ttl=timedelta(seconds=60))
    assert verifier.verify(token).user_id == "gw-0042"


def test_not_yet_valid_token_is_refused(verifier: TokenVerifier, make_token: MakeToken) -> None:
    token = make_token(now=utc_now() + timedelta(minutes=10))
    assert _reason(verifier, token) == "not_yet_valid"


def test_wrong_audience_is_refused(verifier: TokenVerifier, make_token: MakeToken) -> None:
    assert _reason(verifier, make_token(audience="another-hub")) == "wrong_audience"


def test_wrong_issuer_is_refused(verifier: TokenVerifier, make_token: MakeToken) -> None:
    assert _reason(verifier, make_token(issuer="https://evil.example")) == "wrong_issuer"


def test_token_signed_by_another_key_with_a_known_kid_is_refused(
    verifier: TokenVerifier, make_token: MakeToken
) -> None:
    forged = make_token(private_key=Ed25519PrivateKey.generate())
    assert _reason(verifier, forged) == "bad_signature"


def test_edited_roles_with_the_original_signature_are_refused(
    verifier: TokenVerifier, make_token: MakeToken
) -> None:
    token = make_token()
    header_b64, _, signature = token.split(".")
    _, payload, _ = _segments(token)
    payload["roles"] = ["justice_officer"]
    edited = f"{header_b64}.{_b64(json.dumps(payload).encode())}.{signature}"
    assert _reason(verifier, edited) == "bad_signature"


def test_unknown_kid_is_refused(verifier: TokenVerifier, make_token: MakeToken) -> None:
    assert _reason(verifier, make_token(kid="not-in-the-jwks")) == "unknown_key"


def test_missing_kid_is_refused(verifier: TokenVerifier, private_key: Ed25519PrivateKey) -> None:
    now = utc_now()
    token = jwt.encode(
        {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "u1",
            "iat": now,
            "exp": now + timedelta(minutes=5),
            "jti": "j1",
        },
        private_key,
        algorithm="EdDSA",
    )
    assert _reason(verifier, token) == "unknown_key"


def test_alg_none_is_refused(
    verifier: TokenVerifier, make_token: MakeToken, signing_key: GeneratedKey
) -> None:
    _, payload, _ = _segments(make_token())
    header = {"alg": "none", "typ": "JWT", "kid": signing_key.kid}
    unsigned = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}."
    assert _reason(verifier, unsigned) == "bad_algorithm"


def test_hs256_with_the_public_key_as_secret_is_refused(
    verifier: TokenVerifier, make_token: MakeToken, signing_key: GeneratedKey, private_key: Ed25519PrivateKey
) -> None:
    _, payload, _ = _segments(make_token())
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": signing_key.kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    import hashlib
    import hmac

    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    confused = f"{signing_input}.{_b64(mac)}"
    assert _reason(verifier, confused) == "bad_algorithm"


@pytest.mark.parametrize(
    "token",
    ["", "not-a-jwt", "a.b.c", "x" * 9000, "ey.ey.ey.ey", "{HEADER}", "{HEADER}.e30.!!"],
    ids=["empty", "garbage", "bad-base64", "huge", "four-parts", "header-only", "bad-signature-encoding"],
)
def test_malformed_tokens_are_refused(verifier: TokenVerifier, signing_key: GeneratedKey, token: str) -> None:
    header = _b64(json.dumps({"alg": "EdDSA", "typ": "JWT", "kid": signing_key.kid}).encode())
    assert _reason(verifier, token.replace("{HEADER}", header)) == "malformed"


@pytest.mark.parametrize(
    "payload", [b"not json", b"[1, 2]", b'"a string"'], ids=["not-json", "list", "string"]
)
def test_signed_but_non_object_payload_is_malformed(
    verifier: TokenVerifier, private_key: Ed25519PrivateKey, signing_key: GeneratedKey, payload: bytes
) -> None:
    token = jwt.api_jws.encode(payload, private_key, algorithm="EdDSA", headers={"kid": signing_key.kid})
    assert _reason(verifier, token) == "malformed"


@pytest.mark.parametrize("claim", ["sub", "jti", "exp", "iat", "department", "roles", "jurisdictions"])
def test_missing_claims_are_refused(
    verifier: TokenVerifier, private_key: Ed25519PrivateKey, signing_key: GeneratedKey, claim: str
) -> None:
    now = int(utc_now().timestamp())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u1",
        "jti": "j1",
        "iat": now,
        "exp": now + 300,
        "department": "justice",
        "roles": ["justice_officer"],
        "jurisdictions": ["TH"],
    }
    del payload[claim]
    token = jwt.encode(payload, private_key, algorithm="EdDSA", headers={"kid": signing_key.kid})
    with pytest.raises(AuthError) as info:
        verifier.verify(token)
    assert info.value.reason == "missing_claim"
    assert claim in info.value.message


@pytest.mark.parametrize(
    ("claim", "value", "reason"),
    [
        ("roles", ["grid_worker", "superuser"], "unknown_role"),
        ("roles", [], "invalid_claim"),
        ("roles", "grid_worker", "invalid_claim"),
        ("roles", ["grid_worker", "grid_worker"], "invalid_claim"),
        ("jurisdictions", ["th/s03"], "invalid_claim"),
        ("jurisdictions", ["TH/S03/C07/G05/X1"], "invalid_claim"),
        ("jurisdictions", ["TH//S03"], "invalid_claim"),
        ("jurisdictions", [3], "invalid_claim"),
        ("department", "Justice Dept", "invalid_claim"),
        ("sub", "", "invalid_claim"),
        ("sub", 42, "invalid_claim"),
        ("jti", "has space", "invalid_claim"),
        ("sub", "13812345678", "invalid_claim"),
        ("sub", "emp-110105199003071234", "invalid_claim"),
        ("jti", "202405011234567890", "invalid_claim"),
        ("iat", "yesterday", "invalid_claim"),
    ],
)
def test_badly_shaped_claims_are_refused(
    verifier: TokenVerifier,
    private_key: Ed25519PrivateKey,
    signing_key: GeneratedKey,
    claim: str,
    value: object,
    reason: str,
) -> None:
    now = int(utc_now().timestamp())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u1",
        "jti": "j1",
        "iat": now,
        "exp": now + 300,
        "department": "justice",
        "roles": ["justice_officer"],
        "jurisdictions": ["TH"],
        claim: value,
    }
    token = jwt.encode(payload, private_key, algorithm="EdDSA", headers={"kid": signing_key.kid})
    assert _reason(verifier, token) == reason


def test_unknown_role_message_names_the_role_but_no_personal_data(
    verifier: TokenVerifier, make_token: MakeToken
) -> None:
    from hub.auth.issuer import issue_token

    with pytest.raises(AuthError) as info:
        make_token(roles=["superuser"])  # the issuer refuses too
    assert info.value.reason == "unknown_role"
    assert "superuser" in info.value.message and "grid_worker" in info.value.message
    assert issue_token  # the same rule guards issuing and verifying


def test_empty_jurisdictions_are_allowed_for_roles_without_territory(
    verifier: TokenVerifier, make_token: MakeToken
) -> None:
    caller = verifier.verify(make_token(roles=["auditor"], jurisdictions=[]))
    assert caller.jurisdictions == () and not caller.covers("TH")


def test_configured_known_roles_replace_the_default_list(
    signing_key: GeneratedKey, make_token: MakeToken
) -> None:
    narrow = TokenVerifier(
        VerifierSettings(issuer=ISSUER, audience=AUDIENCE, known_roles=("auditor",)),
        load_key_set(signing_key.jwks_file),
    )
    assert _reason(narrow, make_token(roles=["grid_worker"])) == "unknown_role"
    assert narrow.verify(make_token(roles=["auditor"])).roles == ("auditor",)


def test_long_lived_tokens_are_refused(
    signing_key: GeneratedKey, private_key: Ed25519PrivateKey, verifier: TokenVerifier
) -> None:
    now = int(utc_now().timestamp())
    payload = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "u1", "jti": "j1", "iat": now, "exp": now + 13 * 3600,
        "department": "justice", "roles": ["justice_officer"], "jurisdictions": ["TH"],
    }  # fmt: skip
    token = jwt.encode(payload, private_key, algorithm="EdDSA", headers={"kid": signing_key.kid})
    assert _reason(verifier, token) == "too_long_lived"


def test_audience_list_containing_the_hub_is_accepted(
    verifier: TokenVerifier, private_key: Ed25519PrivateKey, signing_key: GeneratedKey
) -> None:
    # Real identity providers may send 'aud' as a list (RFC 7519 section 4.1.3).
    now = int(utc_now().timestamp())
    payload = {
        "iss": ISSUER, "aud": ["other", AUDIENCE], "sub": "u1", "jti": "j1", "iat": now, "exp": now + 300,
        "department": "justice", "roles": ["justice_officer"], "jurisdictions": ["TH"],
    }  # fmt: skip
    token = jwt.encode(payload, private_key, algorithm="EdDSA", headers={"kid": signing_key.kid})
    assert verifier.verify(token).user_id == "u1"


def test_rotation_old_and_new_keys_both_verify(
    key_dir: Path, signing_key: GeneratedKey, make_token: MakeToken
) -> None:
    newer = generate_signing_key(key_dir)
    assert newer.jwks_file == signing_key.jwks_file and newer.kid != signing_key.kid
    both = TokenVerifier(VerifierSettings(issuer=ISSUER, audience=AUDIENCE), load_key_set(newer.jwks_file))
    old_token = make_token()
    new_token = make_token(kid=newer.kid, private_key=load_private_key(newer.private_key_file))
    assert both.verify(old_token).user_id == both.verify(new_token).user_id == "gw-0042"
    # A token naming the new kid but signed with the old key does not verify.
    assert _reason(both, make_token(kid=newer.kid)) == "bad_signature"


def test_refusal_messages_never_echo_the_token_or_claims(
    verifier: TokenVerifier, make_token: MakeToken
) -> None:
    token = make_token(user_id="secret-user-77", audience="another-hub", now=datetime.now(tz=UTC))
    with pytest.raises(AuthError) as info:
        verifier.verify(token)
    assert "secret-user-77" not in str(info.value) and token not in str(info.value)


@pytest.mark.parametrize(
    ("claim", "value"),
    [("sub", "13812345678"), ("sub", "zhang@13812345678"), ("sub", "110105199003071234"), ("jti", "x-11010519900307123X")],
)
def test_an_id_shaped_like_a_phone_or_id_number_is_refused_without_echoing_it(
    verifier: TokenVerifier, private_key: Ed25519PrivateKey, signing_key: GeneratedKey, make_token: MakeToken,
    claim: str, value: str,
) -> None:
    # The audit log refuses entries holding such a digit run, so a caller with this user id could
    # never be audited (every request UNAVAILABLE). Refused when verifying and when issuing.
    now = int(utc_now().timestamp())
    payload = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "u1", "jti": "j1", "iat": now, "exp": now + 300,
        "department": "justice", "roles": ["justice_officer"], "jurisdictions": ["TH"], claim: value,
    }  # fmt: skip
    token = jwt.encode(payload, private_key, algorithm="EdDSA", headers={"kid": signing_key.kid})
    with pytest.raises(AuthError) as info:
        verifier.verify(token)
    assert info.value.reason == "invalid_claim"
    assert f"'{claim}'" in info.value.message and "digit run" in info.value.message
    assert value not in info.value.message
    with pytest.raises(AuthError) as info:
        make_token(**{"user_id" if claim == "sub" else "token_id": value})
    assert info.value.reason == "invalid_claim" and value not in info.value.message
    # digits of other lengths, or glued to letters, are no ID or phone number to the audit log
    for fine in ("emp-1234567890", "u13812345678", "gw-0042"):
        assert verifier.verify(make_token(user_id=fine)).user_id == fine


# ---- verified-token cache: a token is checked once, but never outlives its expiry or its key ----


def test_a_verified_token_is_answered_again_until_it_expires(signing_key: GeneratedKey, make_token: MakeToken) -> None:
    verifier = TokenVerifier(
        VerifierSettings(issuer=ISSUER, audience=AUDIENCE, leeway_seconds=0), load_key_set(signing_key.jwks_file)
    )
    token = make_token(ttl=timedelta(seconds=1))
    first = verifier.verify(token)
    assert verifier.verify(token) == first
    while utc_now() <= first.expires_at + timedelta(milliseconds=50):
        time.sleep(0.05)
    assert _reason(verifier, token) == "expired"  # the remembered verification is void at expiry


def test_a_remembered_token_is_refused_once_its_key_leaves_the_key_set(
    verifier: TokenVerifier, make_token: MakeToken, tmp_path: Path
) -> None:
    token = make_token()
    verifier.verify(token)
    verifier.key_set = load_key_set(generate_signing_key(tmp_path / "rotated").jwks_file)
    assert _reason(verifier, token) == "unknown_key"


def test_an_edited_copy_of_a_remembered_token_is_still_checked(verifier: TokenVerifier, make_token: MakeToken) -> None:
    token = make_token()
    verifier.verify(token)
    header_b64, _, signature = token.split(".")
    _, payload, _ = _segments(token)
    payload["roles"] = ["justice_officer"]
    assert _reason(verifier, f"{header_b64}.{_b64(json.dumps(payload).encode())}.{signature}") == "bad_signature"

