"""The hub's TOML configuration, validated at start into frozen dataclasses.

Every problem is a :class:`hub.errors.ConfigError` naming the file and the key
(``adapters[1].deadline_ms``), never the value (values may be secrets). Unknown
keys are rejected, types are checked strictly (``"500"`` is not a number),
``${VAR}`` in any string is replaced from the environment (unset is an error),
relative paths are taken relative to the configuration file, and key files must
exist. The hub never holds the linkage secret: any ``linkage_secret`` key is
refused (DESIGN.md, Linkage). Keys and defaults are documented in
docs/configuration.md.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, Strict, StrictBool, StrictStr, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from hub.auth.caller import DEFAULT_KNOWN_ROLES, IDENTIFIER_RE
from hub.errors import ConfigError
from pingan.listen import local_only

_STRICT = ConfigDict(extra="forbid")
PosInt = Annotated[int, Strict(), Field(gt=0)]
NonNegInt = Annotated[int, Strict(), Field(ge=0)]
PosFloat = Annotated[float, Strict(), Field(gt=0)]
NonEmptyStr = Annotated[str, Strict(), Field(min_length=1)]
FilePath = Annotated[Path, Field(strict=False)]

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ADDRESS = re.compile(r"^(?:unix:.+|(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_]+):(\d{1,5}))$")
_FORBIDDEN_KEY = re.compile(r"linkage_(secret|key)", re.IGNORECASE)
_FORBIDDEN_MESSAGE = (
    "the hub must never hold the linkage secret; it stays with the department adapters, "
    "which send the hub only keyed encodings (DESIGN.md, Linkage). Remove this key"
)


@dataclass(frozen=True, config=_STRICT)
class HubSection:
    """``[hub]``: where the gRPC server listens and how long one request may take."""

    listen: NonEmptyStr = "127.0.0.1:50051"
    request_timeout_ms: PosInt = 2000
    # Without [tls] the hub listens on this machine only (a loopback address or a unix
    # socket) unless this says plaintext beyond it is meant (a trusted network, a sidecar
    # terminating TLS): tokens and profiles must not cross a network in clear by default.
    plaintext: StrictBool = False


@dataclass(frozen=True, config=_STRICT)
class DatabaseSection:
    """``[database]``: identity index and policy tables (any SQLAlchemy URL)."""

    url: NonEmptyStr = "sqlite:///pingan-hub.db"


@dataclass(frozen=True, config=_STRICT)
class AuditSection:
    """``[audit]``: the RFC 9162 log store, checkpoint signing and sealing (encryption at rest)."""

    signing_key_file: FilePath
    url: StrictStr | None = None
    checkpoint_every_entries: PosInt = 256
    checkpoint_every_seconds: PosFloat = 10.0
    writer: Literal["process", "thread"] = "process"
    sealing_key_file: FilePath | None = None
    sealing_key_env: StrictStr | None = None


@dataclass(frozen=True, config=_STRICT)
class AuthSection:
    """``[auth]``: which caller tokens are accepted, and per-caller limits."""

    issuer: NonEmptyStr
    audience: NonEmptyStr
    jwks_file: FilePath
    leeway_seconds: NonNegInt = 30
    max_token_lifetime_seconds: PosInt = 12 * 3600
    rate_per_minute: PosFloat = 120.0
    burst: PosInt = 30
    replay_window_seconds: PosFloat = 900.0
    known_roles: tuple[StrictStr, ...] = DEFAULT_KNOWN_ROLES


@dataclass(frozen=True, config=_STRICT)
class PolicySection:
    """``[policy]``: Rego in-process (``embedded``) or on an OPA server (``opa``)."""

    engine: Literal["embedded", "opa"] = "embedded"
    opa_url: StrictStr | None = None
    policies_dir: FilePath | None = None
    decision_timeout_ms: PosInt = 200
    sync_seconds: PosFloat = 10.0
    memo_entries: NonNegInt = 50_000
    verdict_entries: NonNegInt = 10_000
    warm_decisions: NonNegInt = 2_000
    decision_log_writer: Literal["process", "thread"] = "thread"


@dataclass(frozen=True, config=_STRICT)
class MaskingSection:
    """``[masking]``: the key for the ``keyed_pseudonym`` operator (a file or an environment variable)."""

    pseudonym_key_file: FilePath | None = None
    pseudonym_key_env: StrictStr | None = None


@dataclass(frozen=True, config=_STRICT)
class AlertsSection:
    """``[alerts]``: how often the hub polls every adapter's ListAlerts (docs/alerts.md)."""

    poll_seconds: PosFloat = 15.0


@dataclass(frozen=True, config=_STRICT)
class AdapterSection:
    """One ``[[adapters]]`` entry: a department adapter and how patiently to call it."""

    name: NonEmptyStr
    address: NonEmptyStr
    deadline_ms: PosInt = 500
    retries: NonNegInt = 2
    backoff_ms: NonNegInt = 20
    breaker_failures: PosInt = 5
    breaker_reset_seconds: PosFloat = 5.0

    def endpoint(self) -> Any:
        """This entry as the department client's ``hub.departments.client.AdapterEndpoint``."""
        from hub.departments.breaker import BreakerSettings
        from hub.departments.client import AdapterEndpoint

        return AdapterEndpoint(
            name=self.name,
            address=self.address,
            deadline_ms=self.deadline_ms,
            retries=self.retries,
            backoff_ms=self.backoff_ms,
            breaker=BreakerSettings(
                failure_threshold=self.breaker_failures, reset_seconds=self.breaker_reset_seconds
            ),
        )


@dataclass(frozen=True, config=_STRICT)
class TLSSection:
    """``[tls]``: mutual TLS to the adapters and for callers (docs/security.md, docs/configuration.md).

    ``cert_file`` is the hub's certificate (role ``hub``); callers of the hub must
    present a ``client`` or ``hub`` certificate from ``ca_file`` unless
    ``require_client_cert = false``; ``crl_file`` (the CA's CRL, RFC 5280 section 5)
    refuses revoked caller certificates, keeps the hub from calling an adapter whose
    certificate it lists (hub/departments/certificate_check.py), and is re-read when it changes.
    """

    ca_file: FilePath
    cert_file: FilePath
    key_file: FilePath
    require_client_cert: StrictBool = True
    crl_file: FilePath | None = None


@dataclass(frozen=True, config=_STRICT)
class HubConfig:
    """The whole validated configuration; ``source`` is the file it came from."""

    audit: AuditSection
    auth: AuthSection
    masking: MaskingSection
    hub: HubSection = dataclasses.field(default_factory=HubSection)
    database: DatabaseSection = dataclasses.field(default_factory=DatabaseSection)
    policy: PolicySection = dataclasses.field(default_factory=PolicySection)
    adapters: tuple[AdapterSection, ...] = ()
    alerts: AlertsSection = dataclasses.field(default_factory=AlertsSection)
    tls: TLSSection | None = None
    source: Path | None = None

    @property
    def audit_url(self) -> str:
        """The audit store URL; the identity database's when ``[audit] url`` is not set."""
        return self.audit.url or self.database.url

    def adapter(self, name: str) -> AdapterSection:
        for entry in self.adapters:
            if entry.name == name:
                return entry
        raise KeyError(name)


_ADAPTER = TypeAdapter(HubConfig)


def load_hub_config(
    path: str | Path, *, environ: Mapping[str, str] | None = None, check_files: bool = True
) -> HubConfig:
    """Read, expand, validate and resolve ``path``; raise :class:`ConfigError` on the first problem.

    ``check_files=False`` skips the "key files exist" check (for linting a
    configuration on another machine).
    """
    path = Path(path)
    env = os.environ if environ is None else environ
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "", "configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot read configuration file ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"not valid TOML: {exc}") from None
    _refuse_linkage_secret(path, raw, "")
    if "source" in raw:
        raise ConfigError(path, "source", _unknown_key_message(HubConfig))
    expanded = _expand(path, raw, "", env)
    try:
        config = _ADAPTER.validate_python(expanded)
    except ValidationError as exc:
        raise _first_error(path, exc) from None
    config = _resolve_paths(config, path.parent.resolve())
    _check_semantics(path, config, env, check_files)
    return dataclasses.replace(config, source=path)


def _refuse_linkage_secret(path: Path, node: Any, where: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}.{key}" if where else key
            if _FORBIDDEN_KEY.search(key):
                raise ConfigError(path, here, _FORBIDDEN_MESSAGE)
            _refuse_linkage_secret(path, value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _refuse_linkage_secret(path, value, f"{where}[{i}]")


def _expand(path: Path, node: Any, where: str, env: Mapping[str, str]) -> Any:
    """Replace ``${VAR}`` in every string value (TOML keys are never expanded)."""
    if isinstance(node, dict):
        return {k: _expand(path, v, f"{where}.{k}" if where else k, env) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand(path, v, f"{where}[{i}]", env) for i, v in enumerate(node)]
    if isinstance(node, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise ConfigError(
                    path, where, f"environment variable {name} is not set (referenced as ${{{name}}})"
                )
            return env[name]

        return _ENV_REF.sub(substitute, node)
    return node


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _model_at(loc: tuple[int | str, ...]) -> type | None:
    """The dataclass that holds the key at ``loc`` (to list its allowed keys)."""
    model: Any = HubConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        hints = typing.get_type_hints(model, include_extras=True)
        if part not in hints:
            return None
        model = _inner_dataclass(hints[part])
        if model is None:
            return None
    return model


def _inner_dataclass(hint: Any) -> type | None:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return hint
    for arg in typing.get_args(hint):
        found = _inner_dataclass(arg)
        if found is not None:
            return found
    return None


def _unknown_key_message(model: type | None) -> str:
    if model is None:
        return "unknown key"
    allowed = ", ".join(f.name for f in dataclasses.fields(model) if f.name != "source")
    return f"unknown key; allowed here: {allowed}"


def _first_error(path: Path, exc: ValidationError) -> ConfigError:
    err = exc.errors(include_input=False, include_url=False)[0]
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "unexpected_keyword_argument":
        return ConfigError(path, _loc(loc), _unknown_key_message(_model_at(loc)))
    if kind in {"missing", "missing_argument"}:
        return ConfigError(path, _loc(loc), "required key is missing")
    if kind in {"dataclass_type", "dataclass_exact_type"}:
        return ConfigError(path, _loc(loc), "must be a table (a [section] or { ... })")
    return ConfigError(path, _loc(loc), err["msg"])


def _resolve_paths(config: HubConfig, base: Path) -> HubConfig:
    """Relative file paths and SQLite files are relative to the configuration file's directory."""

    def fix(section: Any) -> Any:
        changes = {}
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            if isinstance(value, Path) and not value.is_absolute():
                changes[f.name] = base / value
        return dataclasses.replace(section, **changes) if changes else section

    return dataclasses.replace(
        config,
        audit=fix(dataclasses.replace(config.audit, url=_sqlite_relative(config.audit.url, base))),
        auth=fix(config.auth),
        policy=fix(config.policy),
        masking=fix(config.masking),
        database=dataclasses.replace(config.database, url=_sqlite_relative(config.database.url, base) or ""),
        tls=fix(config.tls) if config.tls else None,
    )


def _sqlite_relative(url: str | None, base: Path) -> str | None:
    if not url:
        return url
    prefix = "sqlite:///"
    if (
        url.startswith(prefix)
        and not url.startswith(prefix + "/")
        and url != prefix
        and ":memory:" not in url
    ):
        return prefix + str(base / url[len(prefix) :])
    return url


def _check_semantics(path: Path, config: HubConfig, env: Mapping[str, str], check_files: bool) -> None:
    """Rules that span keys or need the outside world (environment, files)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not _is_address(config.hub.listen, allow_any_port=True):
        raise ConfigError(path, "hub.listen", "must be host:port, e.g. '127.0.0.1:50051' or '[::]:50051'")
    if config.tls is None and not config.hub.plaintext and not local_only(config.hub.listen):
        raise ConfigError(
            path,
            "hub.listen",
            f"{config.hub.listen!r} is reachable from other machines, and without [tls] callers' tokens and "
            "the profiles would cross the network in plaintext: add [tls] (docs/security.md), listen on "
            "127.0.0.1, or set hub.plaintext = true where something else protects the network",
        )
    for key, url in (("database.url", config.database.url), ("audit.url", config.audit.url)):
        if url is None:
            continue
        try:
            make_url(url)
        except ArgumentError:
            raise ConfigError(
                path,
                key,
                "not a SQLAlchemy database URL, e.g. 'sqlite:///hub.db' or 'postgresql+psycopg://...'",
            ) from None

    _one_source(
        path,
        "audit",
        "sealing_key",
        config.audit.sealing_key_file,
        config.audit.sealing_key_env,
        env,
        required=False,
    )
    _one_source(
        path,
        "masking",
        "pseudonym_key",
        config.masking.pseudonym_key_file,
        config.masking.pseudonym_key_env,
        env,
        required=True,
    )

    auth = config.auth
    for i, role in enumerate(auth.known_roles):
        if not IDENTIFIER_RE.fullmatch(role):
            raise ConfigError(
                path, f"auth.known_roles[{i}]", "role names are lower-case identifiers such as 'grid_worker'"
            )
    if len(set(auth.known_roles)) != len(auth.known_roles):
        raise ConfigError(path, "auth.known_roles", "lists a role twice")
    if not auth.known_roles:
        raise ConfigError(path, "auth.known_roles", "must list at least one role")

    policy = config.policy
    if policy.engine == "opa":
        if not policy.opa_url:
            raise ConfigError(
                path, "policy.opa_url", "required when policy.engine = 'opa' (e.g. 'http://127.0.0.1:8181')"
            )
        if not re.match(r"^https?://[^/\s]+", policy.opa_url):
            raise ConfigError(path, "policy.opa_url", "must be an http:// or https:// URL of the OPA server")
    elif policy.opa_url is not None:
        raise ConfigError(
            path, "policy.opa_url", "only used when policy.engine = 'opa'; remove it or set the engine"
        )

    seen: set[str] = set()
    for i, adapter in enumerate(config.adapters):
        if not IDENTIFIER_RE.fullmatch(adapter.name):
            raise ConfigError(
                path, f"adapters[{i}].name", "must be a lower-case identifier such as 'justice'"
            )
        if adapter.name in seen:
            raise ConfigError(path, f"adapters[{i}].name", "another [[adapters]] entry has the same name")
        seen.add(adapter.name)
        if not _is_address(adapter.address):
            raise ConfigError(path, f"adapters[{i}].address", "must be host:port, e.g. '127.0.0.1:50061'")

    if check_files:
        files: list[tuple[str, Path | None]] = [
            ("audit.signing_key_file", config.audit.signing_key_file),
            ("audit.sealing_key_file", config.audit.sealing_key_file),
            ("auth.jwks_file", auth.jwks_file),
            ("masking.pseudonym_key_file", config.masking.pseudonym_key_file),
        ]
        if config.tls:
            files += [
                ("tls.ca_file", config.tls.ca_file),
                ("tls.cert_file", config.tls.cert_file),
                ("tls.key_file", config.tls.key_file),
                ("tls.crl_file", config.tls.crl_file),
            ]
        for key, file in files:
            if file is not None and not file.is_file():
                raise ConfigError(path, key, f"file {file} does not exist")
        if policy.policies_dir is not None and not policy.policies_dir.is_dir():
            raise ConfigError(path, "policy.policies_dir", f"directory {policy.policies_dir} does not exist")
        from hub.auth.errors import KeySetError
        from hub.auth.keyset import load_key_set

        try:
            load_key_set(auth.jwks_file)
        except KeySetError as exc:
            raise ConfigError(path, "auth.jwks_file", str(exc)) from None


def _is_address(text: str, *, allow_any_port: bool = False) -> bool:
    """``host:port``, ``[v6]:port`` or ``unix:path`` as gRPC accepts them (port 0 = any free port)."""
    match = _ADDRESS.fullmatch(text)
    low = 0 if allow_any_port else 1
    return bool(match) and (match.group(1) is None or low <= int(match.group(1)) < 65536)


def _one_source(
    path: Path,
    section: str,
    stem: str,
    file: Path | None,
    env_name: str | None,
    env: Mapping[str, str],
    *,
    required: bool,
) -> None:
    """``<stem>_file`` or ``<stem>_env``: at most one (exactly one when required); the variable must be set."""
    if file is not None and env_name is not None:
        raise ConfigError(path, f"{section}.{stem}_env", f"set either {stem}_file or {stem}_env, not both")
    if required and file is None and env_name is None:
        raise ConfigError(
            path,
            f"{section}.{stem}_file",
            f"required: set {stem}_file (a key file) or {stem}_env (a variable name)",
        )
    if env_name is not None:
        key = f"{section}.{stem}_env"
        if not _ENV_NAME.fullmatch(env_name):
            raise ConfigError(
                path, key, "must be an environment variable name such as 'PINGAN_PSEUDONYM_KEY'"
            )
        if _FORBIDDEN_KEY.search(env_name):
            raise ConfigError(path, key, _FORBIDDEN_MESSAGE)
        if not env.get(env_name):
            raise ConfigError(path, key, f"environment variable {env_name} is not set or empty")
