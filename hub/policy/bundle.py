"""A policy bundle: the Rego modules, Rego tests and Casbin model and rules of one version.

Its content hash is SHA-256 over a canonical encoding (paths sorted; each path and
content length-prefixed, UTF-8), so the same files always give the same hash and
no two different bundles can collide by shifting bytes between path and content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType

from hub.policy.errors import Diagnostic, PolicyLoadError

CASBIN_MODEL = "casbin/model.conf"
CASBIN_RULES = "casbin/policy.csv"
ALLOWED_SUFFIXES = (".rego", ".conf", ".csv")
MAX_FILE_CHARS = 1_000_000


def check_path(path: str) -> str | None:
    """Why ``path`` is not acceptable as a bundle path, or None."""
    if not path or path.startswith("/") or "\\" in path:
        return "path must be relative, with '/' separators"
    parts = PurePosixPath(path).parts
    if any(p in ("", ".", "..") for p in parts):
        return "path must not contain '.' or '..' segments"
    if not path.endswith(ALLOWED_SUFFIXES):
        return "only .rego, .conf and .csv files belong in a policy bundle"
    return None


@dataclass(frozen=True)
class PolicyBundle:
    """Immutable mapping path -> content."""

    files: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = [Diagnostic(p, 0, 0, why) for p in self.files if (why := check_path(p))]
        problems += [
            Diagnostic(p, 0, 0, f"file larger than {MAX_FILE_CHARS} characters")
            for p, c in self.files.items()
            if len(c) > MAX_FILE_CHARS
        ]
        if problems:
            raise PolicyLoadError(problems)
        object.__setattr__(self, "files", MappingProxyType(dict(sorted(self.files.items()))))

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        for path in sorted(self.files):
            for part in (path, self.files[path]):
                data = part.encode("utf-8")
                h.update(len(data).to_bytes(8, "big"))
                h.update(data)
        return h.hexdigest()

    @property
    def rego_modules(self) -> dict[str, str]:
        """Policy modules (not tests)."""
        return {p: c for p, c in self.files.items() if p.endswith(".rego") and not p.endswith("_test.rego")}

    @property
    def rego_tests(self) -> dict[str, str]:
        return {p: c for p, c in self.files.items() if p.endswith("_test.rego")}

    @property
    def casbin_model(self) -> str:
        return self.files.get(CASBIN_MODEL, "")

    @property
    def casbin_rules(self) -> str:
        return self.files.get(CASBIN_RULES, "")

    def changed(self, files: Mapping[str, str], removed: Iterable[str] = ()) -> PolicyBundle:
        """A new bundle with ``files`` added or replaced and ``removed`` paths dropped."""
        merged = dict(self.files)
        missing = [p for p in removed if p not in merged]
        if missing:
            raise PolicyLoadError([Diagnostic(p, 0, 0, "cannot remove: not in the active bundle") for p in missing])
        for p in removed:
            del merged[p]
        merged.update(files)
        return PolicyBundle(merged)

    @staticmethod
    def from_directory(root: str | Path) -> PolicyBundle:
        """Read every .rego/.conf/.csv file under ``root`` (e.g. the repository's policies/)."""
        base = Path(root)
        if not base.is_dir():
            raise PolicyLoadError([Diagnostic(str(base), 0, 0, "policy directory not found")])
        files: dict[str, str] = {}
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.suffix in ALLOWED_SUFFIXES:
                files[path.relative_to(base).as_posix()] = path.read_text(encoding="utf-8")
        if not files:
            raise PolicyLoadError([Diagnostic(str(base), 0, 0, "no policy files found")])
        return PolicyBundle(files)


def default_policy_dir() -> Path:
    """The repository's policies/ directory (installed alongside the package)."""
    return Path(__file__).resolve().parents[2] / "policies"
