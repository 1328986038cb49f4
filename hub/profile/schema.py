"""Translate the contract's enums into the names policy and audit use."""

from __future__ import annotations

from hub.policy.model import FieldInfo
from pingan.v1 import adapter_pb2, common_pb2

# Canonical field names an adapter declares for the profile header.
HEADER_RISK_FIELD = "risk_level"
HEADER_HELPER_FIELD = "responsible_helper"
HEADER_FIELDS = (HEADER_RISK_FIELD, HEADER_HELPER_FIELD)


def category_name(value: int) -> str:
    return common_pb2.Category.Name(value).removeprefix("CATEGORY_").lower()


def grade_number(value: int) -> int:
    return int(value)  # GRADE_L1_PUBLIC == 1 ... GRADE_L4_HIGHLY_SENSITIVE == 4


def type_name(value: int) -> str:
    return common_pb2.ValueType.Name(value).removeprefix("VALUE_TYPE_").lower()


def group_name(value: int) -> str:
    return common_pb2.SensitiveGroup.Name(value).removeprefix("SENSITIVE_GROUP_").lower()


def group_value(name: str) -> int:
    return common_pb2.SensitiveGroup.Value("SENSITIVE_GROUP_" + name.upper())


def field_infos(spec: adapter_pb2.DatasetSpec) -> tuple[FieldInfo, ...]:
    return tuple(
        FieldInfo(
            name=f.name,
            category=category_name(f.classification.category),
            grade=grade_number(f.classification.grade),
            type=type_name(f.type),
        )
        for f in spec.fields
    )


def outcome_name(value: int) -> str:
    return common_pb2.SectionOutcome.Name(value).removeprefix("SECTION_OUTCOME_").lower()
