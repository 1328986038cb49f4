"""Turn engine error output into located ``path:line:column: message`` diagnostics.

regopy (rego-cpp) raises compile errors as S-expression dumps such as
``(error 10:authz.rego|7515|41 (errormsg 18:Invalid collection) ...)`` where the
numbers are a byte offset and length; OPA reports ``file:row: code: message``.
Both become :class:`Diagnostic` values. A lexical check also rejects constructs
regopy 1.5.2 mishandles (``with`` aborts the process when it reaches a rule that
references another rule; ``sprintf`` mis-quotes strings).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from hub.policy.errors import Diagnostic


def _line_col(source: str, byte_offset: int) -> tuple[int, int]:
    data = source.encode("utf-8")[: max(byte_offset, 0)]
    text = data.decode("utf-8", errors="ignore")
    line = text.count("\n") + 1
    col = len(text) - (text.rfind("\n") + 1) + 1
    return line, col


def _read_counted(text: str, pos: int) -> tuple[str, int]:
    """Read a rego-cpp length-prefixed atom ``N:chars`` at ``pos``."""
    m = re.compile(r"(\d+):").match(text, pos)
    if not m:
        return "", pos
    n = int(m.group(1))
    start = m.end()
    return text[start : start + n], start + n


_ERROR = re.compile(r"\(error ")
_ERRORMSG = re.compile(r"\(errormsg ")


def parse_regopy_error(dump: str, sources: Mapping[str, str]) -> list[Diagnostic]:
    """Diagnostics from a regopy S-expression error dump (one per ``(error ...)``)."""
    found: list[Diagnostic] = []
    seen: set[tuple[str, int, int, str]] = set()
    for m in _ERROR.finditer(dump):
        path, pos = _read_counted(dump, m.end())
        loc = re.compile(r"\|(\d+)\|(\d+)").match(dump, pos)
        msg_match = _ERRORMSG.search(dump, pos)
        message = _read_counted(dump, msg_match.end())[0] if msg_match else "error"
        line = col = 0
        if loc and path in sources:
            line, col = _line_col(sources[path], int(loc.group(1)))
        key = (path, line, col, message)
        if key not in seen:
            seen.add(key)
            found.append(Diagnostic(path or "<policy>", line, col, message.strip() or "error"))
    if not found:
        first = dump.strip().splitlines()[0] if dump.strip() else "unknown regopy error"
        found.append(Diagnostic("<policy>", 0, 0, first[:200]))
    return sorted(found, key=lambda d: (d.path, d.line, d.column))


_OPA_LOC = re.compile(r"(?P<path>[^\s:]+\.rego):(?P<line>\d+)(?::(?P<col>\d+))?: (?P<msg>[^\n]+)")


def parse_opa_message(message: str, default_path: str = "<policy>") -> list[Diagnostic]:
    """Diagnostics from an OPA error message (``file:row[:col]: code: text`` entries)."""
    found = [
        Diagnostic(m.group("path"), int(m.group("line")), int(m.group("col") or 0), m.group("msg").strip())
        for m in _OPA_LOC.finditer(message)
    ]
    return found or [Diagnostic(default_path, 0, 0, message.strip()[:300] or "OPA error")]


_TOKEN = re.compile(
    r'(?P<comment>#[^\n]*)|(?P<string>"(?:\\.|[^"\\\n])*")|(?P<raw>`[^`]*`)'
    r"|(?P<with>\bwith\b)|(?P<sprintf>\bsprintf\s*\()"
)


def regopy_hazards(path: str, source: str) -> list[Diagnostic]:
    """Constructs this project does not allow in Rego because regopy mishandles them."""
    found: list[Diagnostic] = []
    for m in _TOKEN.finditer(source):
        kind = m.lastgroup
        if kind not in ("with", "sprintf"):
            continue
        line, col = _line_col(source, len(source[: m.start()].encode("utf-8")))
        if kind == "with":
            msg = "`with` is not allowed: regopy aborts when it reaches a rule that references another rule"
        else:
            msg = "sprintf is not allowed: regopy mis-quotes strings in it; build messages with concat"
        found.append(Diagnostic(path, line, col, msg))
    return found
