"""The validated adapter configuration, as frozen values.

Built by :func:`adapters.config.load_config` from the TOML format documented in
``docs/adapters.md``; everything here has already been checked, so the server
never re-validates it. Names of categories, grades, types and groups are kept as
the lower-case spelling of the configuration and mapped to the enums of
``proto/pingan/v1/common.proto`` by the properties below.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pingan.v1 import common_pb2

# Spellings accepted in the configuration -> enum values of common.proto.
VALUE_TYPES: dict[str, int] = {
    "string": common_pb2.VALUE_TYPE_STRING,
    "integer": common_pb2.VALUE_TYPE_INTEGER,
    "date": common_pb2.VALUE_TYPE_DATE,
    "boolean": common_pb2.VALUE_TYPE_BOOLEAN,
    "bytes": common_pb2.VALUE_TYPE_BYTES,
    "text": common_pb2.VALUE_TYPE_TEXT,
}
CATEGORIES: dict[str, int] = {
    name[len("CATEGORY_") :].lower(): value
    for name, value in common_pb2.Category.items()
    if value != common_pb2.CATEGORY_UNSPECIFIED
}
GRADES: dict[str, int] = {
    "L1": common_pb2.GRADE_L1_PUBLIC,
    "L2": common_pb2.GRADE_L2_INTERNAL,
    "L3": common_pb2.GRADE_L3_SENSITIVE,
    "L4": common_pb2.GRADE_L4_HIGHLY_SENSITIVE,
}
GROUPS: dict[str, int] = {
    name[len("SENSITIVE_GROUP_") :].lower(): value
    for name, value in common_pb2.SensitiveGroup.items()
    if value != common_pb2.SENSITIVE_GROUP_UNSPECIFIED
}


@dataclass(frozen=True, slots=True)
class FieldConfig:
    """One exposed field: a column with its declared type and classification."""

    name: str
    column: str
    type: str
    category: str
    grade: str
    description: str = ""

    @property
    def value_type(self) -> int:
        return VALUE_TYPES[self.type]

    @property
    def classification(self) -> common_pb2.Classification:
        return common_pb2.Classification(category=CATEGORIES[self.category], grade=GRADES[self.grade])


@dataclass(frozen=True, slots=True)
class GroupRule:
    """Tag a record with ``group`` when ``column``'s value is one of ``values``."""

    group: str
    column: str
    values: frozenset[str]


@dataclass(frozen=True, slots=True)
class DatasetConfig:
    """One table or query the department exposes as a dataset."""

    name: str
    description: str
    table: str | None
    query: str | None
    id_column: str
    updated_at_column: str
    jurisdiction_column: str | None
    groups: tuple[str, ...]
    unexposed: tuple[str, ...]
    export: tuple[str, ...]
    identity: tuple[tuple[str, str], ...]  # (canonical identity field, column)
    fields: tuple[FieldConfig, ...]
    group_rules: tuple[GroupRule, ...]

    def field(self, name: str) -> FieldConfig | None:
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None

    @property
    def exported_fields(self) -> tuple[FieldConfig, ...]:
        """Declared fields FetchRecords may return, in declaration order."""
        allowed = set(self.export)
        return tuple(spec for spec in self.fields if spec.name in allowed)

    @property
    def group_values(self) -> tuple[int, ...]:
        return tuple(GROUPS[g] for g in self.groups)


SEVERITIES: tuple[str, ...] = ("high", "medium", "low")


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One ``[[alerts]]`` rule: a department SQL query whose rows are current alerts.

    The query returns ``record_id`` (a record of ``dataset``), ``raised_at`` and
    optionally ``detail_value``; ``detail`` is a template whose only placeholder is
    ``{detail_value}`` so no name or identifier can reach the alert (adapters/alerts.py).
    """

    name: str
    kind: str
    dataset: str
    severity: str
    query: str
    detail: str


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Where the adapter listens and how much one request may ask for."""

    listen: str = "127.0.0.1:0"
    max_records_per_request: int = 500
    max_fields_per_request: int = 200
    plaintext: bool = False  # without [tls], listen beyond this machine anyway (pingan/listen.py)


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """``[tls]``: serve mutual TLS and answer only the hub (docs/adapters.md, docs/security.md).

    Paths are resolved against the configuration file's directory. ``hub_names``
    empty means any certificate with role ``hub`` from the CA; otherwise its name
    (``pingan pki issue --name``) must be listed. ``crl_file`` is the CA's signed
    revocation list (RFC 5280 section 5), re-read whenever the file changes.
    """

    ca_file: Path
    cert_file: Path
    key_file: Path
    crl_file: Path | None = None
    hub_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WitnessConfig:
    """``[witness]``: check the hub's signed audit checkpoints on every FetchRecords (docs/adapters.md).

    ``hub_key_file`` is the hub's checkpoint verifier key (the ``.vkey`` of
    ``pingan audit keygen``), resolved against the configuration file's directory.
    A C2SP checkpoint carries no time, so "too old" is counted in entries: the
    access's audit entry index may be at most ``max_lag_entries`` beyond the
    checkpoint's size.
    """

    hub_key_file: Path
    origin: str = "pingan-hub/audit"
    max_lag_entries: int = 10_000


@dataclass(frozen=True, slots=True)
class AdapterConfig:
    """A whole department adapter configuration (one TOML file)."""

    path: Path
    department: str
    display_name: str
    database_url: str
    state_url: str
    server: ServerConfig
    secret_env: str | None
    secret_file: str | None
    datasets: tuple[DatasetConfig, ...]
    alerts: tuple[AlertRule, ...] = ()
    tls: TlsConfig | None = None
    witness: WitnessConfig | None = None

    def dataset(self, name: str) -> DatasetConfig | None:
        for ds in self.datasets:
            if ds.name == name:
                return ds
        return None
