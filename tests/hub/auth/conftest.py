"""Real Ed25519 keys in a temporary directory, and a verifier over their JWKS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.auth.issuer import issue_token
from hub.auth.keys import GeneratedKey, generate_signing_key, load_private_key
from hub.auth.keyset import load_key_set
from hub.auth.verifier import TokenVerifier, VerifierSettings

ISSUER = "https://idp.test.pingan"
AUDIENCE = "pingan-hub"


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def signing_key(key_dir: Path) -> GeneratedKey:
    return generate_signing_key(key_dir)


@pytest.fixture
def private_key(signing_key: GeneratedKey) -> Ed25519PrivateKey:
    return load_private_key(signing_key.private_key_file)


@pytest.fixture
def verifier(signing_key: GeneratedKey) -> TokenVerifier:
    return TokenVerifier(
        VerifierSettings(issuer=ISSUER, audience=AUDIENCE), load_key_set(signing_key.jwks_file)
    )


MakeToken = Callable[..., str]


@pytest.fixture
def make_token(signing_key: GeneratedKey, private_key: Ed25519PrivateKey) -> MakeToken:
    """Issue a token with sensible defaults; keyword arguments override them."""

    def make(**overrides: Any) -> str:
        args: dict[str, Any] = {
            "kid": signing_key.kid,
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "user_id": "gw-0042",
            "department": "street_office",
            "roles": ["grid_worker"],
            "jurisdictions": ["TH/S03/C07/G05"],
            "ttl": timedelta(minutes=15),
        }
        args.update(overrides)
        key = args.pop("private_key", private_key)
        return issue_token(key, **args)

    return make
