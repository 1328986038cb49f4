"""Policy errors come back located (path:line:column), from both engines."""

from __future__ import annotations

from typing import Any

import pytest

from hub.policy.bundle import PolicyBundle
from hub.policy.diagnostics import parse_opa_message, regopy_hazards
from hub.policy.errors import PolicyLoadError

BROKEN = "package pingan.authz\n\nimport rego.v1\n\ndecision := {\"allow\": true\n"


def test_parse_error_is_located_on_both_engines(policy_bundle: PolicyBundle, engine_factory: Any) -> None:
    bad = policy_bundle.changed({"rego/authz.rego": BROKEN})
    with pytest.raises(PolicyLoadError) as info:
        engine_factory(bad)
    diags = info.value.diagnostics
    assert diags and all(d.path == "rego/authz.rego" for d in diags)
    assert any(d.line >= 5 for d in diags), diags
    assert "(error" not in str(info.value)  # no S-expression dump reaches the caller


def test_with_and_sprintf_are_rejected_with_location() -> None:
    src = 'package x\n# with in a comment\ns := "with in a string"\np if { q with input as {} }\nm := sprintf("%s", ["a"])\n'
    found = regopy_hazards("rego/x.rego", src)
    assert [(d.line, d.column) for d in found] == [(4, 10), (5, 6)]
    assert "with" in found[0].message and "sprintf" in found[1].message


def test_opa_messages_are_located() -> None:
    d = parse_opa_message("prepare_error: 1 error occurred: rego/a.rego:3: rego_unsafe_var_error: var x is unsafe")
    assert (d[0].path, d[0].line, d[0].message) == ("rego/a.rego", 3, "rego_unsafe_var_error: var x is unsafe")


def test_unsafe_variable_is_caught_by_the_strict_compile(policy_bundle: PolicyBundle) -> None:
    from hub.policy.strict_check import strict_diagnostics

    src = policy_bundle.files["rego/authz.rego"] + "\nextra if { y == 1 }\n"
    diags = strict_diagnostics(policy_bundle.changed({"rego/authz.rego": src}))
    assert diags and diags[0].path == "rego/authz.rego" and "unsafe" in diags[0].message
    assert diags[0].line == src.count("\n")


def test_bundle_paths_are_checked() -> None:
    with pytest.raises(PolicyLoadError, match="relative"):
        PolicyBundle({"/etc/passwd.rego": "x"})
    with pytest.raises(PolicyLoadError, match=r"'\.\.'"):
        PolicyBundle({"rego/../x.rego": "x"})
    with pytest.raises(PolicyLoadError, match="only"):
        PolicyBundle({"rego/x.py": "x"})


def test_content_hash_is_canonical() -> None:
    a = PolicyBundle({"a.rego": "1", "b.rego": "2"})
    b = PolicyBundle({"b.rego": "2", "a.rego": "1"})
    c = PolicyBundle({"a.rego": "12", "b.rego": ""})
    assert a.content_hash == b.content_hash != c.content_hash
    assert len(a.content_hash) == 64
