"""Scopes cover paths on whole segments; the scope index answers Casbin's within()."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.policy.jurisdiction import RoleAssignment, ScopeIndex, is_valid_path, narrowed, within


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


def test_narrowed_keeps_the_narrower_of_assignment_and_credential() -> None:
    person = "TH/S03/C07/G05"
    pairs = (("street_officer", "TH/S03"), ("grid_worker", "TH/S03/C07/G05"))
    # The credential names community C07: the street assignment narrows to it, the grid stays.
    assert narrowed(pairs, ("TH/S03/C07",), person) == (("grid_worker", "TH/S03/C07/G05"), ("street_officer", "TH/S03/C07"))
    # A wider credential leaves the assignments as they are.
    assert narrowed(pairs, ("TH",), person) == tuple(sorted(pairs))
    # Several covering credential scopes: the widest counts (the token's union).
    assert narrowed(pairs, ("TH/S03/C07/G05", "TH/S03/C07"), person) == narrowed(pairs, ("TH/S03/C07",), person)


def test_narrowed_is_empty_without_a_covering_credential_scope() -> None:
    pairs = (("street_officer", "TH/S03"),)
    assert narrowed(pairs, (), "TH/S03/C07/G05") == ()
    assert narrowed(pairs, ("TH/S03/C070", "TH/S04"), "TH/S03/C07/G05") == ()  # whole segments only
    # A pair that does not cover the person is dropped, whatever the credential says.
    assert narrowed((("grid_worker", "TH/S03/C01/G01"),), ("TH",), "TH/S03/C07/G05") == ()
