"""DESIGN.md's arrows: hub -> audit, hub -> pingan, adapters -> pingan; nothing else.

Scans every module's imports with ``ast`` (including function-local imports).
``pingan.cli`` is the composition root and may import everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package -> top-level packages of ours it must not import
FORBIDDEN: dict[str, set[str]] = {
    "audit": {"hub", "adapters", "pingan.cli"},
    "adapters": {"hub", "pingan.cli"},
    "hub": {"adapters", "pingan.cli"},
    "pingan/v1": {"hub", "adapters", "audit", "pingan.cli"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
            found.append((node.lineno, node.module))
    return found


def _violations(package: str, forbidden: set[str]) -> list[str]:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for lineno, name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)}:{lineno} imports {name}")
    return bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_the_arrows(package: str) -> None:
    assert _violations(package, FORBIDDEN[package]) == []


def test_scanner_sees_a_forbidden_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "audit"
    pkg.mkdir()
    (pkg / "bad.py").write_text("def f():\n    from hub.profile import x\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert _violations("audit", {"hub"}) == ["audit/bad.py:2 imports hub.profile.x", "audit/bad.py:2 imports hub.profile"]
