"""A complete local deployment on loopback: synthetic departments, their adapters,
keys, and a hub configuration on the embedded defaults.

Used by ``pingan demo``, the end-to-end tests and ``bench/profile_load.py`` so all
three exercise the same wiring a real installation has (adapters from their TOML
configs, the hub from its TOML config), only generated on the fly.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2] / "adapters" / "examples"
ISSUER = "https://idp.sandbox.pingan/"
AUDIENCE = "pingan-hub"


@dataclass(frozen=True)
class Keys:
    """Key files of one sandbox: caller-token signing, audit signing and sealing, pseudonyms."""

    jwt_private: Path
    kid: str
    jwks: Path
    signing_skey: Path
    signing_vkey: Path
    keyring: Path
    pseudonym: Path

    @classmethod
    def generate(cls, directory: Path) -> Keys:
        from audit.checkpoint import NoteSigner
        from audit.sealed import Keyring
        from hub.auth.keys import generate_signing_key

        directory.mkdir(parents=True, exist_ok=True)
        generated = generate_signing_key(directory)
        skey, vkey = NoteSigner.generate("pingan-sandbox-audit").save(directory)
        keyring = directory / "sealing-keyring.json"
        keyring.write_text(Keyring.generate().to_json())
        pseudonym = directory / "pseudonym.key"
        pseudonym.write_text(secrets.token_hex(32))
        return cls(generated.private_key_file, generated.kid, generated.jwks_file, skey, vkey, keyring, pseudonym)

    def token(
        self,
        user: str,
        department: str,
        roles: list[str],
        jurisdictions: list[str],
        ttl: dt.timedelta = dt.timedelta(minutes=15),
        now: dt.datetime | None = None,
    ) -> str:
        from hub.auth.issuer import issue_token
        from hub.auth.keys import load_private_key

        return issue_token(
            load_private_key(self.jwt_private),
            kid=self.kid,
            issuer=ISSUER,
            audience=AUDIENCE,
            user_id=user,
            department=department,
            roles=roles,
            jurisdictions=jurisdictions,
            ttl=ttl,
            now=now,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def adapter_config(department: str, directory: Path, port: int = 0) -> Path:
    """A copy of the example config of ``department`` listening on ``port`` (0 = any)."""
    text = (EXAMPLES / f"{department}.toml").read_text(encoding="utf-8")
    text = text.replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{port}"')
    path = directory / f"{department}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def running_adapters(config_dir: Path, ports: Mapping[str, int] | None = None) -> Iterator[dict[str, Any]]:
    """Start one adapter per example department; stop them all on exit."""
    from adapters.server import AdapterServer

    config_dir.mkdir(parents=True, exist_ok=True)
    servers: dict[str, Any] = {}
    try:
        for example in sorted(EXAMPLES.glob("*.toml")):
            port = (ports or {}).get(example.stem, 0)
            server = AdapterServer.from_config(adapter_config(example.stem, config_dir, port))
            server.start()
            servers[example.stem] = server
        yield servers
    finally:
        for server in servers.values():
            server.stop(0.2)


def write_hub_config(
    root: Path,
    keys: Keys,
    adapter_addresses: Mapping[str, str],
    *,
    database_url: str | None = None,
    audit_url: str | None = None,
    deadline_ms: int = 500,
    checkpoint_every_entries: int = 8,
) -> Path:
    """The hub's TOML on the embedded defaults (SQLite files under ``root``)."""
    database_url = database_url or f"sqlite:///{root / 'hub.db'}"
    audit_url = audit_url or f"sqlite:///{root / 'audit.db'}"
    lines = [
        "[hub]",
        'listen = "127.0.0.1:0"',
        "[database]",
        f'url = "{database_url}"',
        "[audit]",
        f'url = "{audit_url}"',
        f'signing_key_file = "{keys.signing_skey}"',
        f'sealing_key_file = "{keys.keyring}"',
        f"checkpoint_every_entries = {checkpoint_every_entries}",
        "checkpoint_every_seconds = 1.0",
        "[auth]",
        f'issuer = "{ISSUER}"',
        f'audience = "{AUDIENCE}"',
        f'jwks_file = "{keys.jwks}"',
        "rate_per_minute = 6000.0",
        "burst = 1000",
        "[policy]",
        'engine = "embedded"',
        "[masking]",
        f'pseudonym_key_file = "{keys.pseudonym}"',
    ]
    for name, address in sorted(adapter_addresses.items()):
        lines += [
            "[[adapters]]",
            f'name = "{name}"',
            f'address = "{address}"',
            f"deadline_ms = {deadline_ms}",
            "breaker_failures = 3",
            "breaker_reset_seconds = 0.5",
        ]
    path = root / "hub.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def prepare_environment(data_dir: Path) -> None:
    """The two variables the example adapter configs read."""
    os.environ["PINGAN_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("PINGAN_LINKAGE_SECRET", secrets.token_hex(32))
