"""The hub configuration: the example loads; every mistake names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.auth.keys import generate_signing_key
from hub.config import HubConfig, load_hub_config
from hub.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "hub.toml"

MINIMAL = """
[audit]
signing_key_file = "keys/audit.pem"

[auth]
issuer = "https://idp.test"
audience = "pingan-hub"
jwks_file = "keys/jwks.json"

[masking]
pseudonym_key_file = "keys/pseudonym.key"
"""


@pytest.fixture
def conf_dir(tmp_path: Path) -> Path:
    keys = tmp_path / "keys"
    generate_signing_key(keys)  # a real JWKS: the loader checks it at start
    for name in ("audit.pem", "pseudonym.key"):
        (keys / name).write_text("x")
    return tmp_path


def write(conf_dir: Path, text: str) -> Path:
    path = conf_dir / "hub.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error(
    conf_dir: Path, text: str, env: dict[str, str] | None = None, check_files: bool = True
) -> ConfigError:
    path = write(conf_dir, text)
    with pytest.raises(ConfigError) as info:
        load_hub_config(path, environ=env or {}, check_files=check_files)
    assert info.value.path == str(path) and str(info.value).startswith(f"{path}: ")
    return info.value


def test_example_loads() -> None:
    env = {"PINGAN_SEALING_KEY": "k1", "PINGAN_PSEUDONYM_KEY": "k2"}
    config = load_hub_config(EXAMPLE, environ=env, check_files=False)
    assert isinstance(config, HubConfig) and config.source == EXAMPLE
    assert [a.name for a in config.adapters] == [
        "public_security", "justice", "civil_affairs", "health", "human_resources", "education",
    ]  # fmt: skip
    assert config.adapter("justice").deadline_ms == 500
    assert config.database.url == f"sqlite:///{EXAMPLE.parent / 'var' / 'pingan-hub.db'}"
    assert config.audit_url == config.database.url
    assert config.auth.jwks_file == EXAMPLE.parent / "keys" / "jwks.json"
    assert config.policy.engine == "embedded" and config.tls is None


def test_minimal_config_gets_the_documented_defaults(conf_dir: Path) -> None:
    config = load_hub_config(write(conf_dir, MINIMAL), environ={})
    assert config.hub.listen == "127.0.0.1:50051" and config.hub.request_timeout_ms == 2000
    assert (
        config.auth.leeway_seconds == 30 and config.auth.rate_per_minute == 120.0 and config.auth.burst == 30
    )
    assert config.auth.max_token_lifetime_seconds == 43200 and "grid_worker" in config.auth.known_roles
    assert config.audit.checkpoint_every_entries == 256 and config.audit.checkpoint_every_seconds == 10.0
    assert config.policy.engine == "embedded" and config.adapters == ()
    assert config.policy.memo_entries == 50_000 and config.policy.verdict_entries == 10_000
    assert config.masking.pseudonym_key_file == conf_dir / "keys" / "pseudonym.key"
    assert config.database.url == f"sqlite:///{conf_dir / 'pingan-hub.db'}"


def test_config_is_frozen(conf_dir: Path) -> None:
    config = load_hub_config(write(conf_dir, MINIMAL), environ={})
    with pytest.raises(AttributeError):
        config.hub.listen = "0.0.0.0:1"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("extra", "key", "fragment"),
    [
        (
            "[hub]\nlisten_on = 'x'\n",
            "hub.listen_on",
            "unknown key; allowed here: listen, request_timeout_ms",
        ),
        ("[hubb]\nlisten = 'x'\n", "hubb", "unknown key"),
        ("source = 'x'\n[hub]\n", "source", "unknown key"),
        (
            "[[adapters]]\nname = 'a'\naddress = 'h:1'\n[[adapters]]\nname = 'b'\naddress = 'h:2'\ntimeout = 3\n",
            "adapters[1].timeout",
            "allowed here: name, address, deadline_ms",
        ),
        ("[hub]\nrequest_timeout_ms = '500'\n", "hub.request_timeout_ms", "valid integer"),
        ("[hub]\nrequest_timeout_ms = true\n", "hub.request_timeout_ms", "valid integer"),
        ("[hub]\nrequest_timeout_ms = 0\n", "hub.request_timeout_ms", "greater than 0"),
        ("[hub]\nrequest_timeout_ms = 1.5\n", "hub.request_timeout_ms", "valid integer"),
        (
            "[[adapters]]\nname = 'a'\naddress = 'h:1'\ndeadline_ms = -1\n",
            "adapters[0].deadline_ms",
            "greater than 0",
        ),
        ("[[adapters]]\nname = 'a'\n", "adapters[0].address", "required key is missing"),
        (
            "[[adapters]]\nname = 'a'\naddress = 'h:1'\n[[adapters]]\nname = 'a'\naddress = 'h:2'\n",
            "adapters[1].name",
            "same name",
        ),
        ("[[adapters]]\nname = 'Justice'\naddress = 'h:1'\n", "adapters[0].name", "lower-case identifier"),
        ("[[adapters]]\nname = 'a'\naddress = 'nohostport'\n", "adapters[0].address", "host:port"),
        ("[policy]\nengine = 'remote'\n", "policy.engine", "'embedded' or 'opa'"),
        ("[policy]\nverdict_entries = -1\n", "policy.verdict_entries", "greater than or equal to 0"),
        ("[policy]\nengine = 'opa'\n", "policy.opa_url", "required when policy.engine = 'opa'"),
        ("[policy]\nengine = 'opa'\nopa_url = 'ftp://x'\n", "policy.opa_url", "http://"),
        ("[policy]\nopa_url = 'http://x:8181'\n", "policy.opa_url", "only used when"),
        ("[hub]\nlisten = 'not a host port'\n", "hub.listen", "host:port"),
        ("[hub]\nlisten = 'localhost'\n", "hub.listen", "host:port"),
        ("[hub]\nlisten = '127.0.0.1:70000'\n", "hub.listen", "host:port"),
        ("[database]\nurl = 'nonsense'\n", "database.url", "SQLAlchemy database URL"),
        ("hub = 3\n", "hub", "must be a table"),
        ("[tls]\nca_file = 'keys/audit.pem'\n", "tls.cert_file", "required key is missing"),
    ],
)
def test_mistakes_name_the_key(conf_dir: Path, extra: str, key: str, fragment: str) -> None:
    exc = error(conf_dir, extra + MINIMAL)
    assert exc.key == key and fragment in exc.message


@pytest.mark.parametrize(
    ("drop", "key"),
    [('issuer = "https://idp.test"\n', "auth.issuer"), ('jwks_file = "keys/jwks.json"\n', "auth.jwks_file")],
)
def test_missing_required_keys(conf_dir: Path, drop: str, key: str) -> None:
    exc = error(conf_dir, MINIMAL.replace(drop, ""))
    assert exc.key == key and exc.message == "required key is missing"


def test_missing_section(conf_dir: Path) -> None:
    text = MINIMAL.split("[auth]")[0] + "[masking]\npseudonym_key_file = 'keys/pseudonym.key'\n"
    assert error(conf_dir, text).key == "auth"


def test_environment_variables_are_expanded(conf_dir: Path) -> None:
    text = MINIMAL.replace('audience = "pingan-hub"', 'audience = "${AUD}-${ENVNAME}"')
    config = load_hub_config(write(conf_dir, text), environ={"AUD": "pingan-hub", "ENVNAME": "prod"})
    assert config.auth.audience == "pingan-hub-prod"


def test_unset_environment_variable_names_key_and_variable(conf_dir: Path) -> None:
    exc = error(
        conf_dir, "[database]\nurl = 'postgresql+psycopg://hub:${PINGAN_DB_PASSWORD}@db/hub'\n" + MINIMAL
    )
    assert exc.key == "database.url" and "PINGAN_DB_PASSWORD is not set" in exc.message


def test_errors_never_repeat_configured_values(conf_dir: Path) -> None:
    secret = "s3cr3t-value-from-env"
    exc = error(conf_dir, "[hub]\nrequest_timeout_ms = '${TIMEOUT}'\n" + MINIMAL, env={"TIMEOUT": secret})
    assert exc.key == "hub.request_timeout_ms" and secret not in str(exc)
    exc = error(conf_dir, f"[database]\nurl = 'not a url {secret}'\n" + MINIMAL)
    assert secret not in str(exc)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("linkage_secret = 'abc'\n" + MINIMAL, "linkage_secret"),
        (MINIMAL + "linkage_secret_file = 'k'\n", "masking.linkage_secret_file"),
        (
            "[[adapters]]\nname = 'a'\naddress = 'h:1'\nlinkage_key = 'k'\n" + MINIMAL,
            "adapters[0].linkage_key",
        ),
        ("[extra.nested]\nLINKAGE_SECRET_ENV = 'X'\n" + MINIMAL, "extra.nested.LINKAGE_SECRET_ENV"),
    ],
)
def test_a_linkage_secret_is_refused_anywhere(conf_dir: Path, text: str, key: str) -> None:
    exc = error(conf_dir, text)
    assert exc.key == key and "hub must never hold the linkage secret" in exc.message


def test_linkage_secret_smuggled_through_an_env_key_name_is_refused(conf_dir: Path) -> None:
    text = MINIMAL.replace(
        'pseudonym_key_file = "keys/pseudonym.key"', 'pseudonym_key_env = "PINGAN_LINKAGE_SECRET"'
    )
    exc = error(conf_dir, text, env={"PINGAN_LINKAGE_SECRET": "x"})
    assert exc.key == "masking.pseudonym_key_env" and "never hold the linkage secret" in exc.message


def test_pseudonym_key_needs_exactly_one_source(conf_dir: Path) -> None:
    both = MINIMAL + 'pseudonym_key_env = "PK"\n'
    exc = error(conf_dir, both, env={"PK": "x"})
    assert exc.key == "masking.pseudonym_key_env" and "not both" in exc.message
    neither = MINIMAL.replace('pseudonym_key_file = "keys/pseudonym.key"', "")
    exc = error(conf_dir, neither)
    assert exc.key == "masking.pseudonym_key_file" and "required" in exc.message


def test_key_from_environment_must_be_set(conf_dir: Path) -> None:
    text = MINIMAL.replace('pseudonym_key_file = "keys/pseudonym.key"', 'pseudonym_key_env = "PK"')
    exc = error(conf_dir, text, env={"PK": ""})
    assert exc.key == "masking.pseudonym_key_env" and "PK is not set or empty" in exc.message
    assert load_hub_config(conf_dir / "hub.toml", environ={"PK": "x"}).masking.pseudonym_key_env == "PK"


def test_missing_key_files_are_named(conf_dir: Path) -> None:
    (conf_dir / "keys" / "jwks.json").unlink()
    exc = error(conf_dir, MINIMAL)
    assert exc.key == "auth.jwks_file" and "does not exist" in exc.message
    assert (
        load_hub_config(conf_dir / "hub.toml", environ={}, check_files=False).auth.jwks_file.name
        == "jwks.json"
    )


def test_unusable_jwks_is_refused_at_load(conf_dir: Path) -> None:
    (conf_dir / "keys" / "jwks.json").write_text('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}')
    exc = error(conf_dir, MINIMAL)
    assert exc.key == "auth.jwks_file" and "only kty 'OKP'" in exc.message


def test_addresses_that_grpc_accepts(conf_dir: Path) -> None:
    for listen in ("[::]:50051", "0.0.0.0:1", "hub.internal:443", "unix:/run/pingan/hub.sock"):
        text = f"[hub]\nlisten = '{listen}'\nplaintext = true\n" + MINIMAL
        assert load_hub_config(write(conf_dir, text), environ={}).hub.listen == listen


def test_plaintext_beyond_this_machine_must_be_asked_for(conf_dir: Path) -> None:
    """Security on by default: without [tls], only a loopback address or a unix socket."""
    for listen in ("127.0.0.1:50051", "[::1]:50051", "localhost:50051", "unix:/run/pingan/hub.sock"):
        text = f"[hub]\nlisten = '{listen}'\n" + MINIMAL
        assert load_hub_config(write(conf_dir, text), environ={}).hub.listen == listen
    for listen in ("[::]:50051", "0.0.0.0:50051", "10.1.2.3:50051", "hub.internal:443"):
        exc = error(conf_dir, f"[hub]\nlisten = '{listen}'\n" + MINIMAL)
        assert exc.key == "hub.listen" and "plaintext" in exc.message and "[tls]" in exc.message


def test_tls_files_resolved_and_checked(conf_dir: Path) -> None:
    text = (
        "[tls]\nca_file = 'keys/audit.pem'\ncert_file = 'keys/audit.pem'\nkey_file = 'pki/hub.key'\n"
        + MINIMAL
    )
    exc = error(conf_dir, text)
    assert exc.key == "tls.key_file"


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_hub_config(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[hub\nlisten = 1")
    with pytest.raises(ConfigError) as info:
        load_hub_config(bad)
    assert str(bad) in str(info.value) and "not valid TOML" in str(info.value)


def test_database_urls(conf_dir: Path) -> None:
    pg = "postgresql+psycopg://hub@127.0.0.1:5432/hub"
    text = f"[database]\nurl = '{pg}'\n" + MINIMAL.replace(
        "[audit]\n", "[audit]\nurl = 'sqlite:////var/lib/audit.db'\n"
    )
    config = load_hub_config(write(conf_dir, text), environ={})
    assert config.database.url == pg and config.audit_url == "sqlite:////var/lib/audit.db"


def test_adapter_entry_becomes_a_department_client_endpoint(conf_dir: Path) -> None:
    text = (
        "[[adapters]]\nname = 'justice'\naddress = '127.0.0.1:50062'\ndeadline_ms = 300\nbreaker_failures = 3\n"
        + MINIMAL
    )
    endpoint = load_hub_config(write(conf_dir, text), environ={}).adapter("justice").endpoint()
    assert (endpoint.name, endpoint.address, endpoint.deadline_ms, endpoint.retries) == (
        "justice",
        "127.0.0.1:50062",
        300,
        2,
    )
    assert endpoint.breaker.failure_threshold == 3 and endpoint.breaker.reset_seconds == 5.0


def test_known_roles_are_configurable_and_checked(conf_dir: Path) -> None:
    text = MINIMAL.replace("[auth]\n", '[auth]\nknown_roles = ["grid_worker", "auditor"]\n')
    assert load_hub_config(write(conf_dir, text), environ={}).auth.known_roles == ("grid_worker", "auditor")
    exc = error(conf_dir, MINIMAL.replace("[auth]\n", '[auth]\nknown_roles = ["Grid Worker"]\n'))
    assert exc.key == "auth.known_roles[0]"
    exc = error(conf_dir, MINIMAL.replace("[auth]\n", '[auth]\nknown_roles = ["a", 3]\n'))
    assert exc.key == "auth.known_roles[1]"
