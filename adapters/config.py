"""Loading and validating an adapter configuration file (TOML, see docs/adapters.md).

Two stages, both fail closed with a :class:`~adapters.errors.ConfigError` that
names the file and the key:

1. :func:`parse_config` checks the file itself: TOML syntax (TOML v1.0.0, with
   line and column), unknown and missing keys, value types, ``${VAR}``
   expansion, names of types, categories, grades and sensitive groups, unique
   dataset and field names, export entries that are declared fields, and the
   SQLAlchemy URLs' syntax.
2. :func:`load_config` additionally connects to the department's database and
   checks the configuration against its real schema
   (:func:`adapters.introspect.check_schema`): every mapped column exists and
   every column is accounted for.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adapters.errors import ConfigError
from adapters.linkage.fields import IdentityFields
from adapters.model import (
    CATEGORIES,
    GRADES,
    GROUPS,
    SEVERITIES,
    VALUE_TYPES,
    AdapterConfig,
    AlertRule,
    DatasetConfig,
    FieldConfig,
    GroupRule,
    ServerConfig,
    TlsConfig,
    WitnessConfig,
)
from pingan.listen import local_only

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_LISTEN_RE = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+):(?P<port>\d{1,5})$")

_TOP_KEYS = {"department", "database", "state", "server", "linkage", "datasets", "alerts", "tls", "witness"}
_DEPARTMENT_KEYS = {"name", "display_name"}
_URL_KEYS = {"url"}
_SERVER_KEYS = {"listen", "max_records_per_request", "max_fields_per_request", "plaintext"}
_LINKAGE_KEYS = {"secret_env", "secret_file"}
_TLS_KEYS = {"ca_file", "cert_file", "key_file", "crl_file", "hub_names"}
_WITNESS_KEYS = {"hub_key_file", "origin", "max_lag_entries"}
_DATASET_KEYS = {
    "name",
    "description",
    "table",
    "query",
    "id_column",
    "updated_at_column",
    "jurisdiction_column",
    "groups",
    "unexposed",
    "export",
    "identity",
    "fields",
    "group_rules",
}
_FIELD_KEYS = {"name", "column", "type", "category", "grade", "description"}
_RULE_KEYS = {"group", "column", "in"}
_ALERT_KEYS = {"name", "kind", "dataset", "severity", "query", "detail"}
_DETAIL_FIELD_RE = re.compile(r"\{([^{}]*)\}")


class _Reader:
    """Typed access to one TOML table, with errors naming the file and dotted key."""

    def __init__(self, path: Path, table: dict[str, Any], prefix: str) -> None:
        self.path = path
        self.table = table
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, message: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.key(name)}: {message}")

    def only(self, allowed: set[str]) -> None:
        for name in self.table:
            if name not in allowed:
                raise self.error(name, f"unknown key (allowed here: {', '.join(sorted(allowed))})")

    def _expand(self, name: str, value: str) -> str:
        def sub(match: re.Match[str]) -> str:
            var = match.group(1)
            if var not in os.environ:
                raise self.error(name, f"environment variable {var} is not set (used as ${{{var}}})")
            return os.environ[var]

        return _VAR_RE.sub(sub, value)

    def string(self, name: str, *, required: bool = True, default: str | None = None) -> str | None:
        if name not in self.table:
            if required:
                raise self.error(name, "missing required key")
            return default
        value = self.table[name]
        if not isinstance(value, str):
            raise self.error(name, f"must be a string, not {_toml_type(value)}")
        value = self._expand(name, value)
        if required and not value.strip():
            raise self.error(name, "must not be empty")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        if name not in self.table:
            return default
        value = self.table[name]
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, not {_toml_type(value)}")
        return value

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        if name not in self.table:
            return default
        value = self.table[name]
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(name, f"must be an integer, not {_toml_type(value)}")
        if not minimum <= value <= maximum:
            raise self.error(name, f"must be between {minimum} and {maximum}, got {value}")
        return value

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(name, "must be a list of strings")
        return tuple(self._expand(name, v) for v in value)

    def sub_table(self, name: str, *, required: bool) -> dict[str, Any] | None:
        if name not in self.table:
            if required:
                raise self.error(name, "missing required table")
            return None
        value = self.table[name]
        if not isinstance(value, dict):
            raise self.error(name, f"must be a table, not {_toml_type(value)}")
        return value

    def array_of_tables(self, name: str) -> list[dict[str, Any]]:
        value = self.table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(name, f"must be an array of tables ([[{self.key(name)}]])")
        return value


def _toml_type(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _check_name(r: _Reader, key: str, value: str, what: str) -> None:
    if not NAME_RE.match(value):
        raise r.error(key, f"{what} {value!r} must match ^[a-z][a-z0-9_]*$")


def _one_of(r: _Reader, key: str, value: str, allowed: dict[str, int], what: str) -> None:
    if value not in allowed:
        raise r.error(key, f"unknown {what} {value!r} (one of: {', '.join(allowed)})")


def _check_url(r: _Reader, key: str, url: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except ArgumentError:
        raise r.error(
            key,
            "not a valid SQLAlchemy URL (expected e.g. sqlite:////path/file.db or "
            "postgresql+psycopg://user@host:5432/dbname)",
        ) from None


def read_toml(path: Path) -> dict[str, Any]:
    """Read ``path`` as TOML; a syntax error names the file, line and column."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None


def parse_config(path: str | Path) -> AdapterConfig:
    """Read and statically validate a configuration; does not touch any database."""
    path = Path(path)
    top = _Reader(path, read_toml(path), "")
    top.only(_TOP_KEYS)

    dep = _Reader(path, top.sub_table("department", required=True) or {}, "department")
    dep.only(_DEPARTMENT_KEYS)
    department = dep.string("name")
    assert department is not None
    _check_name(dep, "name", department, "department name")
    display_name = dep.string("display_name", required=False, default=department) or department

    urls: dict[str, str] = {}
    for section in ("database", "state"):
        sr = _Reader(path, top.sub_table(section, required=True) or {}, section)
        sr.only(_URL_KEYS)
        url = sr.string("url")
        assert url is not None
        _check_url(sr, "url", url)
        urls[section] = url

    srv = _Reader(path, top.sub_table("server", required=False) or {}, "server")
    srv.only(_SERVER_KEYS)
    listen = srv.string("listen", required=False, default="127.0.0.1:0") or "127.0.0.1:0"
    match = _LISTEN_RE.match(listen)
    if match is None or int(match.group("port")) > 65535:
        raise srv.error(
            "listen", f"{listen!r} is not host:port (e.g. 127.0.0.1:50051; port 0 picks a free one)"
        )
    server = ServerConfig(
        listen=listen,
        max_records_per_request=srv.integer("max_records_per_request", 500, minimum=1, maximum=100_000),
        max_fields_per_request=srv.integer("max_fields_per_request", 200, minimum=1, maximum=10_000),
        plaintext=srv.boolean("plaintext", False),
    )

    lk = _Reader(path, top.sub_table("linkage", required=True) or {}, "linkage")
    lk.only(_LINKAGE_KEYS)
    secret_env = lk.string("secret_env", required=False)
    secret_file = lk.string("secret_file", required=False)
    if bool(secret_env) == bool(secret_file):
        raise lk.error("secret_env", "set exactly one of linkage.secret_env and linkage.secret_file")

    tables = top.array_of_tables("datasets")
    if not tables:
        raise top.error("datasets", "at least one [[datasets]] entry is required")
    datasets: list[DatasetConfig] = []
    seen: set[str] = set()
    for index, table in enumerate(tables):
        ds = _parse_dataset(path, index, table)
        if ds.name in seen:
            raise ConfigError(f"{path}: datasets[{index}].name: duplicate dataset name {ds.name!r}")
        seen.add(ds.name)
        datasets.append(ds)

    alerts = _parse_alerts(path, top, {ds.name for ds in datasets})
    tls_table = top.sub_table("tls", required=False)
    tls = _parse_tls(path, tls_table) if tls_table is not None else None
    if tls is None and not server.plaintext and not local_only(server.listen):
        raise srv.error(
            "listen",
            f"{server.listen!r} is reachable from other machines, and without [tls] the department's records "
            "would cross the network in plaintext to anyone who asks: add [tls] (docs/adapters.md), listen "
            "on 127.0.0.1, or set server.plaintext = true where something else protects the network",
        )
    witness_table = top.sub_table("witness", required=False)
    witness = _parse_witness(path, witness_table) if witness_table is not None else None

    return AdapterConfig(
        path=path,
        department=department,
        display_name=display_name,
        database_url=urls["database"],
        state_url=urls["state"],
        server=server,
        secret_env=secret_env or None,
        secret_file=secret_file or None,
        datasets=tuple(datasets),
        alerts=alerts,
        tls=tls,
        witness=witness,
    )


def _parse_tls(path: Path, table: dict[str, Any]) -> TlsConfig:
    """The optional ``[tls]`` section; files must exist (their PEM content is checked at start)."""
    from pingan.tls import check_name

    r = _Reader(path, table, "tls")
    r.only(_TLS_KEYS)
    base = path.resolve().parent

    def file(key: str, *, required: bool) -> Path | None:
        value = r.string(key, required=required)
        if not value:
            if value is not None:
                raise r.error(key, "must not be empty")
            return None
        resolved = Path(value) if Path(value).is_absolute() else base / value
        if not resolved.is_file():
            raise r.error(key, f"file {resolved} does not exist")
        return resolved

    ca_file, cert_file, key_file = (file(k, required=True) for k in ("ca_file", "cert_file", "key_file"))
    assert ca_file and cert_file and key_file
    hub_names = r.strings("hub_names")
    for name in hub_names:
        try:
            check_name(name)
        except ValueError as exc:
            raise r.error("hub_names", f"{exc} (the hub certificate's name, as given to 'pingan pki issue')") from None
    return TlsConfig(
        ca_file=ca_file,
        cert_file=cert_file,
        key_file=key_file,
        crl_file=file("crl_file", required=False),
        hub_names=hub_names,
    )


def _parse_witness(path: Path, table: dict[str, Any]) -> WitnessConfig:
    """The optional ``[witness]`` section; the hub's verifier key is read and checked now."""
    from audit.checkpoint import NoteVerifier
    from audit.errors import AuditError

    r = _Reader(path, table, "witness")
    r.only(_WITNESS_KEYS)
    value = r.string("hub_key_file")
    assert value is not None
    key_file = Path(value) if Path(value).is_absolute() else path.resolve().parent / value
    if not key_file.is_file():
        raise r.error("hub_key_file", f"file {key_file} does not exist (the hub's .vkey from 'pingan audit keygen')")
    try:
        NoteVerifier.load(key_file)
    except AuditError as exc:
        raise r.error(
            "hub_key_file", f"{exc} (expected the hub's checkpoint verifier key, the .vkey of 'pingan audit keygen')"
        ) from None
    origin = r.string("origin", required=False, default="pingan-hub/audit")
    if origin is None or not origin.strip() or "\n" in origin:
        raise r.error("origin", "must be a non-empty single line (the hub's checkpoint origin)")
    return WitnessConfig(
        hub_key_file=key_file,
        origin=origin,
        max_lag_entries=r.integer("max_lag_entries", 10_000, minimum=1, maximum=10**12),
    )


def _parse_alerts(path: Path, top: _Reader, datasets: set[str]) -> tuple[AlertRule, ...]:
    """The optional ``[[alerts]]`` rules (docs/alerts.md); the query's columns are checked at start."""
    rules: list[AlertRule] = []
    seen: set[str] = set()
    for index, table in enumerate(top.array_of_tables("alerts")):
        r = _Reader(path, table, f"alerts[{index}]")
        name = r.string("name")
        assert name is not None
        _check_name(r, "name", name, "alert rule name")
        r.prefix = f"alerts[{name}]"
        r.only(_ALERT_KEYS)
        if name in seen:
            raise r.error("name", f"duplicate alert rule name {name!r}")
        seen.add(name)
        kind, dataset, severity = r.string("kind"), r.string("dataset"), r.string("severity")
        query, detail = r.string("query"), r.string("detail")
        assert kind and dataset and severity and query and detail
        _check_name(r, "kind", kind, "alert kind")
        if dataset not in datasets:
            raise r.error(
                "dataset",
                f"{dataset!r} is not a declared dataset (declared: {', '.join(sorted(datasets))}); "
                "the alert's record must belong to one so the hub can find the person",
            )
        if severity not in SEVERITIES:
            raise r.error("severity", f"unknown severity {severity!r} (one of: {', '.join(SEVERITIES)})")
        for placeholder in _DETAIL_FIELD_RE.findall(detail):
            if placeholder != "detail_value":
                raise r.error(
                    "detail",
                    f"placeholder {{{placeholder}}} is not allowed; the only placeholder is {{detail_value}} "
                    "(alerts carry no names or identifiers)",
                )
        try:
            detail.format(detail_value="")
        except (ValueError, IndexError, KeyError):
            raise r.error("detail", "is not a valid template (use {detail_value}; write {{ and }} for braces)") from None
        rules.append(AlertRule(name=name, kind=kind, dataset=dataset, severity=severity, query=query, detail=detail))
    return tuple(rules)


def _parse_dataset(path: Path, index: int, table: dict[str, Any]) -> DatasetConfig:
    r = _Reader(path, table, f"datasets[{index}]")
    name = r.string("name")
    assert name is not None
    _check_name(r, "name", name, "dataset name")
    r.prefix = f"datasets[{name}]"
    r.only(_DATASET_KEYS)
    src_table = r.string("table", required=False)
    query = r.string("query", required=False)
    if bool(src_table) == bool(query):
        raise r.error("table", "set exactly one of table and query")
    id_column = r.string("id_column")
    updated_at_column = r.string("updated_at_column")
    assert id_column is not None and updated_at_column is not None
    jurisdiction_column = r.string("jurisdiction_column", required=False) or None

    groups = r.strings("groups")
    for g in groups:
        _one_of(r, "groups", g, GROUPS, "sensitive group")

    identity_table = r.sub_table("identity", required=False) or {}
    ir = _Reader(path, identity_table, f"{r.prefix}.identity")
    ir.only(set(IdentityFields.FIELD_NAMES))
    identity = tuple((canonical, ir.string(canonical) or "") for canonical in identity_table)

    fields: list[FieldConfig] = []
    field_names: set[str] = set()
    for findex, ftable in enumerate(r.array_of_tables("fields")):
        fr = _Reader(path, ftable, f"{r.prefix}.fields[{findex}]")
        fname = fr.string("name")
        assert fname is not None
        _check_name(fr, "name", fname, "field name")
        fr.prefix = f"{r.prefix}.fields[{fname}]"
        fr.only(_FIELD_KEYS)
        if fname in field_names:
            raise fr.error("name", f"duplicate field name {fname!r}")
        field_names.add(fname)
        ftype, category, grade = fr.string("type"), fr.string("category"), fr.string("grade")
        assert ftype is not None and category is not None and grade is not None
        _one_of(fr, "type", ftype, VALUE_TYPES, "type")
        _one_of(fr, "category", category, CATEGORIES, "category")
        _one_of(fr, "grade", grade, GRADES, "grade")
        fields.append(
            FieldConfig(
                name=fname,
                column=fr.string("column") or "",
                type=ftype,
                category=category,
                grade=grade,
                description=fr.string("description", required=False, default="") or "",
            )
        )

    unexposed = r.strings("unexposed")
    field_columns = {spec.column: spec.name for spec in fields}
    for column in unexposed:
        if column in field_columns:
            raise r.error(
                "unexposed",
                f"column {column!r} is listed as unexposed but declared as field {field_columns[column]!r}; "
                "choose one",
            )

    export = r.strings("export")
    for entry in export:
        if entry not in field_names:
            raise r.error(
                "export",
                f"{entry!r} is not a declared field of dataset {name!r} "
                "(declare it under [[datasets.fields]] first)",
            )

    rules: list[GroupRule] = []
    for rindex, rtable in enumerate(r.array_of_tables("group_rules")):
        rr = _Reader(path, rtable, f"{r.prefix}.group_rules[{rindex}]")
        rr.only(_RULE_KEYS)
        group = rr.string("group")
        assert group is not None
        _one_of(rr, "group", group, GROUPS, "sensitive group")
        values = rr.strings("in")
        if "in" not in rtable or not values:
            raise rr.error("in", "missing or empty list of values that trigger the group")
        rules.append(GroupRule(group=group, column=rr.string("column") or "", values=frozenset(values)))

    return DatasetConfig(
        name=name,
        description=r.string("description", required=False, default="") or "",
        table=src_table or None,
        query=query or None,
        id_column=id_column,
        updated_at_column=updated_at_column,
        jurisdiction_column=jurisdiction_column,
        groups=groups,
        unexposed=unexposed,
        export=export,
        identity=identity,
        fields=tuple(fields),
        group_rules=tuple(rules),
    )


def load_config(
    path: str | Path, *, check_database: Callable[[AdapterConfig], None] | None = None
) -> AdapterConfig:
    """Parse ``path`` and check it against the department's database (the start-up checks).

    ``check_database`` defaults to :func:`adapters.introspect.check_schema`.
    """
    config = parse_config(path)
    if check_database is None:
        from adapters.introspect import check_schema

        check_database = check_schema
    check_database(config)
    return config
