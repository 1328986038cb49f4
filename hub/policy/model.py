"""Typed values of the decision interface (frozen dataclasses).

The profile service builds one :class:`SectionRequest` per department section and
gets a :class:`SectionDecision` back; :class:`HeaderRequest` decides what the caller
may see of the person's header (risk level, responsible helper, sensitive groups).
Categories, grades and groups use the lower-case names of proto/pingan/v1/common.proto.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

CATEGORIES: frozenset[str] = frozenset(
    {
        "identity", "contact", "address", "household", "case", "health", "corrections",
        "assistance", "employment", "education", "risk", "administrative",
    }
)
SENSITIVE_GROUPS: frozenset[str] = frozenset(
    {
        "community_corrections", "released_prisoner", "severe_mental_disorder", "drug_involved",
        "minor", "elderly_alone", "domestic_violence_victim", "whistleblower",
    }
)
VALUE_TYPES: frozenset[str] = frozenset({"string", "integer", "date", "boolean", "bytes", "text"})

# Operators the masking engine implements (hub/masking), plus the free-text PII obligation.
MASKING_OPERATORS: frozenset[str] = frozenset(
    {
        "redact", "null", "keep_first_n", "keep_last_n", "name_surname_only", "id_number", "phone",
        "year_only", "age_band", "address_to_community", "keyed_pseudonym",
    }
)
PII_FREE_TEXT = "pii_free_text"
OBLIGATION_OPERATORS: frozenset[str] = MASKING_OPERATORS | {PII_FREE_TEXT}

# Justifications shorter than this (after stripping) count as absent.
MIN_JUSTIFICATION_CHARS = 10


@dataclass(frozen=True)
class Subject:
    """The caller: user id, home department, claimed roles and scopes (from the credential)."""

    user_id: str
    department: str
    roles: tuple[str, ...]
    jurisdictions: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldInfo:
    """One field of a section: name, category, grade 1..4 (L1..L4), value type."""

    name: str
    category: str
    grade: int
    type: str = "string"


@dataclass(frozen=True)
class Resource:
    """The data asked for: the person's actual-residence jurisdiction, groups, section schema."""

    person_jurisdiction: str
    groups: tuple[str, ...]
    department: str
    dataset: str
    fields: tuple[FieldInfo, ...]
    person_ref: str = ""  # the hub's person id (never an identity number); for replay


@dataclass(frozen=True)
class Context:
    """When the request was made and whether an emergency was declared."""

    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    emergency: bool = False


@dataclass(frozen=True)
class SectionRequest:
    """One department section of one profile request."""

    subject: Subject
    resource: Resource
    purpose: str
    justification: str = ""
    context: Context = field(default_factory=Context)
    request_id: str = ""

    @property
    def justification_provided(self) -> bool:
        return len(self.justification.strip()) >= MIN_JUSTIFICATION_CHARS


@dataclass(frozen=True)
class SectionDecision:
    """The decision for one section.

    ``fields`` maps every field the caller may see to its masking operator, or None
    when it is shown as stored; fields not in it are withheld. ``obligations`` gives
    each operator with its parameters (``{"operator": "keep_last_n", "n": 4}``);
    ``pii_free_text`` means "run the PII analyser on this free text".
    """

    allow: bool
    fields: Mapping[str, str | None]
    obligations: Mapping[str, Mapping[str, Any]]
    withheld: Mapping[str, str]
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    policy_hashes: tuple[str, ...]
    roles: tuple[str, ...] = ()

    @staticmethod
    def deny(reasons: tuple[str, ...], policy_hashes: tuple[str, ...], flags: tuple[str, ...] = ()) -> SectionDecision:
        return SectionDecision(
            allow=False,
            fields=MappingProxyType({}),
            obligations=MappingProxyType({}),
            withheld=MappingProxyType({}),
            reasons=reasons or ("denied",),
            flags=flags,
            policy_hashes=policy_hashes,
        )

    @property
    def review(self) -> bool:
        """Break-glass decisions are marked for review."""
        return "review" in self.flags


@dataclass(frozen=True)
class HeaderRequest:
    """What the caller may see of the person's header."""

    subject: Subject
    person_jurisdiction: str
    groups: tuple[str, ...]
    purpose: str
    justification: str = ""
    context: Context = field(default_factory=Context)
    request_id: str = ""

    @property
    def justification_provided(self) -> bool:
        return len(self.justification.strip()) >= MIN_JUSTIFICATION_CHARS


@dataclass(frozen=True)
class HeaderDecision:
    """Header visibility: the name's masking obligation (``{"operator": ..., ...}``; empty
    shows no name), risk level, responsible helper, sensitive-group membership, and
    ``household``: whether the caller may see who the person lives with (False unless
    the policy says so: a policy without the output shows no household)."""

    allow: bool
    risk_level: bool
    responsible_helper: bool
    groups: bool
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    policy_hashes: tuple[str, ...]
    name_obligation: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    household: bool = False

    @property
    def name_operator(self) -> str:
        """The operator masking the header's name, "" when no name is shown."""
        return str(self.name_obligation.get("operator", ""))
