"""Scopes cover paths on whole segments; the scope index answers Casbin's within()."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.policy.jurisdiction import RoleAssignment, ScopeIndex, is_valid_path, within


@pytest.mark.parametrize(
    ("path", "scope", "expected"),
    [
        ("TH/S03/C07/G05", "TH/S03", True),
        ("TH/S03/C07/G05", "TH/S03/C07/G05", True),
        ("TH/S031/C01", "TH/S03", False),
        ("TH/S03", "TH/S03/C07", False),
        ("TH/S03/C07/G05", "", False),
        ("", "TH", False),
    ],
)
def test_within(path: str, scope: str, expected: bool) -> None:
    assert within(path, scope) is expected


segment = st.text(alphabet="ABCS0123456789", min_size=1, max_size=4)


@given(st.lists(segment, min_size=1, max_size=4), st.integers(min_value=1, max_value=4))
def test_every_prefix_of_whole_segments_covers(parts: list[str], k: int) -> None:
    path = "/".join(parts)
    scope = "/".join(parts[: min(k, len(parts))])
    assert within(path, scope)
    last = parts[min(k, len(parts)) - 1]
    if len(last) > 1:  # a scope that is a string prefix but not a whole-segment prefix
        partial = "/".join([*parts[: min(k, len(parts)) - 1], last[:-1]])
        assert not within(path, partial)


def test_paths_are_validated() -> None:
    assert is_valid_path("TH/S03/C07/G05")
    assert not is_valid_path("TH/S03/C07/G05/X")
    assert not is_valid_path("TH//S03")
    assert not is_valid_path("../TH")


def test_index_answers_role_within() -> None:
    index = ScopeIndex([RoleAssignment("u", "grid_worker", "TH/S03/C07/G05"), RoleAssignment("u", "street_officer", "TH/S04")])
    assert index.has_role_within("u", "grid_worker", "TH/S03/C07/G05")
    assert not index.has_role_within("u", "grid_worker", "TH/S03/C07/G04")
    assert index.has_role_within("u", "street_officer", "TH/S04/C01/G01")
    assert not index.has_role_within("u", "street_officer", "TH/S041/C01")
    assert not index.has_role_within("other", "grid_worker", "TH/S03/C07/G05")
    assert index.covering("u", "TH/S04/C01") == (("street_officer", "TH/S04"),)
    assert len(index) == 2
