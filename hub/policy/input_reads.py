"""Which parts of the decision input a Rego policy can observe (a static, conservative check).

The decision point memoises Rego outputs by their input (issue 4: a whole-profile
decision in under 2 ms; regopy needs about 2 ms for one section). A memo keyed by
the exact input rarely hits: every person lives somewhere else. But the default
policy reads jurisdictions only to ask "is the person's path beneath one of the
caller's scopes?", and it never reads the user id or the request time. Inputs that
differ only in what the policy cannot observe have the same decision, so the memo
key may leave the unobserved parts out and replace jurisdiction paths by a renaming
that keeps every prefix relation (:func:`hub.policy.jurisdiction.relative_paths`).

This module decides, from the policy text, what is observable. It is deliberately
conservative: anything it does not recognise counts as observed, so the worst case
is a memo that hits less often, never a wrong decision.

- The modules must read ``input`` only through literal dotted paths
  (``input.subject.roles``) or ``object.get(<dotted path>, "<literal key>", ...)``.
  ``input[...]``, a bare ``input``, ``import input...`` or a computed key make the
  whole input observable.
- The user id (``input.subject.user_id``) and the request time
  (``input.context.time``) are observed when any read reaches them.
- Jurisdictions (``input.resource.jurisdiction``, ``input.subject.jurisdictions``)
  are *relational* when every read is one of the prefix-test idioms of
  policies/rego/authz.rego:

      some scope in input.subject.jurisdictions   # scope used only in the test below
      startswith(concat("", [input.resource.jurisdiction, "/"]), concat("", [scope, "/"]))
      input.resource.jurisdiction                  # alone: is it present?
      not input.resource.jurisdiction

  Any other read (a comparison with a literal, ``split``, ``count``, a function
  argument...) makes them *concrete*: the exact paths stay in the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# A double-quoted string (with escapes), a raw string, or a comment.
_LEXEME = re.compile(r'("(?:\\.|[^"\\\n])*"|`[^`]*`)|#[^\n]*')
_INPUT = re.compile(r"\binput\b")
_DOTTED = re.compile(r"\binput((?:\.[A-Za-z_]\w*)*)")
_OBJECT_GET = re.compile(r'object\.get\(\s*input((?:\.[A-Za-z_]\w*)*)\s*,\s*"([A-Za-z_]\w*)"')

USER_ID = ("subject", "user_id")
TIME = ("context", "time")
PERSON_PATH = ("resource", "jurisdiction")
SCOPES = ("subject", "jurisdictions")

_SCOPE_BINDING = re.compile(r"\bsome\s+([A-Za-z_]\w*)\s+in\s+input\.subject\.jurisdictions\b")
_PREFIX_TEST = re.compile(
    r'startswith\(\s*concat\(\s*""\s*,\s*\[\s*input\.resource\.jurisdiction\s*,\s*"/"\s*\]\s*\)\s*,'
    r'\s*concat\(\s*""\s*,\s*\[\s*([A-Za-z_]\w*)\s*,\s*"/"\s*\]\s*\)\s*\)'
)
_PRESENCE = re.compile(r"(?:^[ \t]*|\bif[ \t]+)(?:not[ \t]+)?(input)\.resource\.jurisdiction[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class InputReads:
    """What the policy may observe; everything not listed here is always in the memo key."""

    user_id: bool
    time: bool
    # "none": never read; "relational": only prefix tests; "concrete": the paths themselves.
    jurisdictions: str

    @staticmethod
    def everything() -> InputReads:
        return InputReads(user_id=True, time=True, jurisdictions="concrete")


def strip_comments(source: str) -> str:
    """The Rego text without comments (string literals kept verbatim)."""
    return _LEXEME.sub(lambda m: m.group(1) or "", source)


def _blank_strings(source: str) -> str:
    """Same length, string contents replaced by spaces (so a word inside a string is not a read)."""
    return re.sub(r'"(?:\\.|[^"\\\n])*"|`[^`]*`', lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2) + m.group(0)[-1], source)


def _reaches(path: tuple[str, ...], target: tuple[str, ...]) -> bool:
    """A read of ``path`` observes ``target`` when one is a prefix of the other."""
    n = min(len(path), len(target))
    return path[:n] == target[:n]


def _enclosing_body(text: str, pos: int) -> tuple[int, int]:
    """Span of the innermost ``{...}`` around ``pos`` (the whole text when there is none)."""
    depth, start = 0, 0
    for i in range(pos - 1, -1, -1):
        c = text[i]
        if c == "}":
            depth += 1
        elif c == "{":
            if depth == 0:
                start = i + 1
                break
            depth -= 1
    depth, end = 0, len(text)
    for i in range(pos, len(text)):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                end = i
                break
            depth -= 1
    return start, end


def _module_reads(source: str) -> tuple[list[tuple[str, ...]], bool, bool] | None:
    """(paths read, jurisdictions read, all jurisdiction reads relational); None when undisciplined."""
    text = strip_comments(source)
    code = _blank_strings(text)  # offsets equal to ``text``
    if re.search(r"\bimport\s+input\b", code):
        return None
    spans: dict[int, tuple[tuple[str, ...], int]] = {}
    for m in _DOTTED.finditer(code):
        path = tuple(p for p in m.group(1).split(".") if p)
        spans[m.start()] = (path, m.end())
    for m in _INPUT.finditer(code):
        if m.start() not in spans or not spans[m.start()][0]:
            return None  # bare input, input[...] or input used as a value
    object_gets = {m.start(1) - len("input"): m for m in _OBJECT_GET.finditer(text)}
    reads: dict[int, tuple[str, ...]] = {}
    for start, (path, end) in spans.items():
        if code[end : end + 1] == "[":
            return None  # computed key below a dotted path
        get = object_gets.get(start)
        reads[start] = (*path, get.group(2)) if get is not None else path
    paths = list(reads.values())
    if not any(_reaches(p, PERSON_PATH) or _reaches(p, SCOPES) for p in paths):
        return paths, False, True
    return paths, True, _relational(text, code, reads)


def _relational(text: str, code: str, reads: dict[int, tuple[str, ...]]) -> bool:
    """True when every jurisdiction read in the module is one of the prefix-test idioms."""
    allowed: set[int] = set()
    for m in _PRESENCE.finditer(text):
        allowed.add(m.start(1))
    for m in _PREFIX_TEST.finditer(text):
        allowed.add(text.index("input", m.start()))
        var = m.group(1)
        lo, hi = _enclosing_body(code, m.start())
        binding = [b for b in _SCOPE_BINDING.finditer(text[lo:hi]) if b.group(1) == var]
        uses = len(re.findall(rf"\b{re.escape(var)}\b", code[lo:hi]))
        # The variable is bound once from the caller's scopes and used only in this test.
        if len(binding) == 1 and uses == 2 and len(_PREFIX_TEST.findall(text[lo:hi])) == 1:
            allowed.add(lo + binding[0].start() + binding[0].group(0).index("input"))
    # A whole object holding a jurisdiction (``input.resource`` not under object.get with
    # a literal key) reaches the paths too and is never one of the idioms.
    return all(
        start in allowed and path in (PERSON_PATH, SCOPES)
        for start, path in reads.items()
        if _reaches(path, PERSON_PATH) or _reaches(path, SCOPES)
    )


def analyse(modules: Iterable[str]) -> InputReads:
    """What the given Rego modules (not their tests) may observe of the decision input."""
    paths: list[tuple[str, ...]] = []
    juris_read, relational = False, True
    for source in modules:
        found = _module_reads(source)
        if found is None:
            return InputReads.everything()
        module_paths, reads_juris, module_relational = found
        paths += module_paths
        juris_read |= reads_juris
        relational &= module_relational
    return InputReads(
        user_id=any(_reaches(p, USER_ID) for p in paths),
        time=any(_reaches(p, TIME) for p in paths),
        jurisdictions="concrete" if juris_read and not relational else ("relational" if juris_read else "none"),
    )
