"""The profile header: what the header decision lets through, the name as the policy masks it."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

from hub.identity.index import PersonInfo
from hub.masking.context import MaskingContext
from hub.policy.model import HeaderDecision
from hub.profile.assembly import profile_header
from hub.profile.schema import HEADER_HELPER_FIELD, HEADER_RISK_FIELD
from pingan.v1 import common_pb2

CTX = MaskingContext(pseudonym_key=b"k" * 32, reference_date=dt.date(2026, 1, 1))
PERSON = PersonInfo("p-1", "h-1", True, "TH/S03/C07/G05", (common_pb2.SENSITIVE_GROUP_COMMUNITY_CORRECTIONS,), 3)
IDENTITY = {"name": "欧阳修远", "sex": "男", "birth_date": dt.date(1971, 6, 1)}
VALUES = {HEADER_RISK_FIELD: "red", HEADER_HELPER_FIELD: "李**"}


def _decision(
    name: dict[str, object] | None, *, allow: bool = True, shown: bool = True, household: bool = True
) -> HeaderDecision:
    return HeaderDecision(
        allow, shown, shown, shown, ("allowed",), (), ("h",), MappingProxyType(dict(name or {})), household
    )


def test_the_name_is_masked_by_the_operator_the_policy_names() -> None:
    surname = profile_header(PERSON, _decision({"operator": "name_surname_only"}), VALUES, IDENTITY, CTX)
    first = profile_header(PERSON, _decision({"operator": "keep_first_n", "n": 1}), VALUES, IDENTITY, CTX)
    assert surname.masked_name.startswith("欧阳") and "修远" not in surname.masked_name  # a compound surname
    assert first.masked_name.startswith("欧") and not first.masked_name.startswith("欧阳")


def test_no_obligation_or_a_denied_header_shows_no_name() -> None:
    assert profile_header(PERSON, _decision(None), VALUES, IDENTITY, CTX).masked_name == ""
    denied = profile_header(PERSON, _decision({"operator": "name_surname_only"}, allow=False), VALUES, IDENTITY, CTX)
    assert denied.masked_name == "" and not denied.risk_level and not denied.groups


def test_risk_helper_groups_only_where_the_decision_allows() -> None:
    shown = profile_header(PERSON, _decision({"operator": "name_surname_only"}), VALUES, IDENTITY, CTX)
    assert (shown.risk_level, shown.responsible_helper) == ("red", "李**")
    assert list(shown.groups) == [common_pb2.SENSITIVE_GROUP_COMMUNITY_CORRECTIONS]
    hidden = profile_header(PERSON, _decision({"operator": "name_surname_only"}, shown=False), VALUES, IDENTITY, CTX)
    assert (hidden.risk_level, hidden.responsible_helper, list(hidden.groups)) == ("", "", [])


def test_sex_age_band_and_residence_mismatch() -> None:
    header = profile_header(PERSON, _decision(None), VALUES, IDENTITY, CTX)
    assert header.sex == "M" and header.age_band == "50-59"
    assert "residence_mismatch" in header.flags and header.jurisdiction == "TH/S03/C07/G05"
    settled = PersonInfo("p-2", None, False, "TH/S03/C07/G05", (), 1)
    assert "residence_mismatch" not in profile_header(settled, _decision(None), {}, {}, CTX).flags
    # Household data: not where the policy hides who the person lives with, nor with a denied header.
    for hidden in (_decision(None, household=False), _decision(None, allow=False)):
        assert "residence_mismatch" not in profile_header(PERSON, hidden, VALUES, IDENTITY, CTX).flags
