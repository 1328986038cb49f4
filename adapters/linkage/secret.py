"""The linkage secret: held by adapters only, read from a key file or an environment variable.

The hub's configuration has no such key and the hub never receives it; without
it, exact tokens (HMAC-SHA256, RFC 2104) cannot be recomputed from guessed
identifiers. The secret must be at least :data:`MIN_SECRET_BYTES` long (the
HMAC-SHA256 block of security, NIST SP 800-107 section 5.3.4).
"""

from __future__ import annotations

import os
from pathlib import Path

from adapters.linkage.errors import LinkageError

MIN_SECRET_BYTES = 32


def load_secret(*, secret_file: str | None, secret_env: str | None) -> bytes:
    """Read the linkage secret from ``secret_file`` (preferred) or the variable ``secret_env``.

    Trailing whitespace (a newline from an editor) is stripped. Errors name the
    file or the variable, never the secret.
    """
    if secret_file:
        path = Path(secret_file)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise LinkageError(f"linkage secret file {path} does not exist") from None
        except OSError as exc:
            raise LinkageError(f"linkage secret file {path} cannot be read: {exc.strerror}") from None
        secret = raw.strip()
        where = f"linkage secret file {path}"
    elif secret_env:
        value = os.environ.get(secret_env)
        if value is None:
            raise LinkageError(f"linkage secret environment variable {secret_env} is not set")
        secret = value.strip().encode("utf-8")
        where = f"linkage secret environment variable {secret_env}"
    else:
        raise LinkageError("no linkage secret configured: set a secret file or a secret environment variable")
    if len(secret) < MIN_SECRET_BYTES:
        raise LinkageError(
            f"{where} holds {len(secret)} bytes; at least {MIN_SECRET_BYTES} are required "
            f"(generate one with: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return secret
