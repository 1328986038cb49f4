"""A complete local deployment on loopback: synthetic departments, their adapters,
keys, and a hub configuration on the embedded defaults.

Used by ``pingan demo``, the end-to-end tests and ``bench/profile_load.py`` so all
three exercise the same wiring a real installation has (adapters from their TOML
configs, the hub from its TOML config), only generated on the fly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import socket
import threading
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


HUB_CERT_NAME = "hub"
CLIENT_CERT_NAME = "demo-callers"


@dataclass(frozen=True)
class SandboxTls:
    """A private CA and every certificate a sandbox needs for mutual TLS (docs/security.md).

    ``hub`` (role hub: serves callers, calls adapters), one ``adapter`` certificate
    per department named by :func:`hub.departments.client.adapter_certificate_name`,
    and ``demo-callers`` (role client) for the systems calling the hub. Server
    certificates name localhost and 127.0.0.1, plus their identity host name.
    """

    directory: Path
    ca_file: Path
    crl_file: Path
    ca_key_dir: Path
    hub_cert: Path
    hub_key: Path
    client_cert: Path
    client_key: Path
    adapter_files: Mapping[str, tuple[Path, Path]]

    @classmethod
    def create(cls, directory: Path, departments: list[str]) -> SandboxTls:
        from hub.departments.client import adapter_certificate_name
        from hub.pki import create_ca, issue_certificate

        ca = create_ca(directory / "ca", name="pingan sandbox CA", days=30)
        hub = issue_certificate(ca, name=HUB_CERT_NAME, role="hub", out_dir=directory / "hub", days=30)
        client = issue_certificate(ca, name=CLIENT_CERT_NAME, role="client", out_dir=directory / "clients", days=30)
        adapters = {}
        for department in departments:
            issued = issue_certificate(
                ca,
                name=adapter_certificate_name(department),
                role="adapter",
                out_dir=directory / "adapters" / department,
                days=30,
            )
            adapters[department] = (issued.cert_file, issued.key_file)
        return cls(
            directory, ca.cert_file, ca.crl_file, ca.directory,
            hub.cert_file, hub.key_file, client.cert_file, client.key_file, adapters,
        )

    def adapter_section(self, department: str) -> str:
        """The ``[tls]`` section of ``department``'s adapter configuration (serves only the hub)."""
        cert, key = self.adapter_files[department]
        return (
            "\n[tls]\n"
            f'ca_file = "{self.ca_file}"\ncert_file = "{cert}"\nkey_file = "{key}"\n'
            f'crl_file = "{self.crl_file}"\nhub_names = ["{HUB_CERT_NAME}"]\n'
        )

    def hub_section(self) -> list[str]:
        """The ``[tls]`` lines of the hub's configuration (client certificates required)."""
        return [
            "[tls]",
            f'ca_file = "{self.ca_file}"',
            f'cert_file = "{self.hub_cert}"',
            f'key_file = "{self.hub_key}"',
            f'crl_file = "{self.crl_file}"',
            "require_client_cert = true",
        ]

    def client_credentials(self) -> Any:
        """Channel credentials of the demo's callers (role client) for their channel to the hub."""
        from pingan.tls import channel_credentials

        return channel_credentials(self.ca_file, self.client_cert, self.client_key)

    def hub_credentials(self) -> Any:
        """Channel credentials with the hub's certificate: what an adapter answers."""
        from pingan.tls import channel_credentials

        return channel_credentials(self.ca_file, self.hub_cert, self.hub_key)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def adapter_config(
    department: str,
    directory: Path,
    port: int = 0,
    tls: SandboxTls | None = None,
    witness_key: Path | None = None,
) -> Path:
    """A copy of the example config of ``department`` listening on ``port`` (0 = any), with
    ``[tls]`` if given, and ``[witness]`` checking the hub's checkpoints with ``witness_key``."""
    text = (EXAMPLES / f"{department}.toml").read_text(encoding="utf-8")
    text = text.replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{port}"')
    if tls is not None:
        text = text.rstrip("\n") + "\n" + tls.adapter_section(department)
    if witness_key is not None:
        text = text.rstrip("\n") + f'\n\n[witness]\nhub_key_file = "{witness_key}"\n'
    path = directory / f"{department}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def departments() -> list[str]:
    """The example departments, one adapter each."""
    return sorted(example.stem for example in EXAMPLES.glob("*.toml"))


@contextmanager
def running_adapters(
    config_dir: Path,
    ports: Mapping[str, int] | None = None,
    tls: SandboxTls | None = None,
    witness_key: Path | None = None,
) -> Iterator[dict[str, Any]]:
    """Start one adapter per example department (mutual TLS with ``tls``); stop them all on exit."""
    from adapters.server import AdapterServer

    config_dir.mkdir(parents=True, exist_ok=True)
    servers: dict[str, Any] = {}
    try:
        for example in sorted(EXAMPLES.glob("*.toml")):
            port = (ports or {}).get(example.stem, 0)
            server = AdapterServer.from_config(adapter_config(example.stem, config_dir, port, tls, witness_key))
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
    checkpoint_every_seconds: float = 1.0,
    tls: SandboxTls | None = None,
) -> Path:
    """The hub's TOML on the embedded defaults (SQLite files under ``root``); ``[tls]`` with ``tls``.

    Checkpoints are signed every 8 entries or 1 s by default, more often than the
    hub's own defaults (256 entries, 10 s), so a short demo shows several.
    """
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
        f"checkpoint_every_seconds = {checkpoint_every_seconds}",
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
    if tls is not None:
        lines += tls.hub_section()
    path = root / "hub.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def prepare_environment(data_dir: Path) -> None:
    """The two variables the example adapter configs read."""
    os.environ["PINGAN_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("PINGAN_LINKAGE_SECRET", secrets.token_hex(32))


class LoopThread:
    """An asyncio event loop in a thread, to host the grpc.aio hub beside synchronous
    code (tests, benchmarks): ``run`` a coroutine on it, ``call`` a function on it."""

    def __init__(self, name: str = "hub-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 300) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Any) -> Any:
        async def wrapped() -> Any:
            return fn()

        return self.run(wrapped())

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
