"""``pingan pii scan NOTES.jsonl``: find and mask PII in free-text notes.

Input: one JSON object per line, ``{"id": ..., "text": ...}`` (optionally
``"known_names": [...]``, names the profile holds, found even where the surname
heuristic would not). Output (stdout or ``--out FILE``): one line per good input,
``{"id": ..., "entities": [{"type", "start", "end"}], "masked": "..."}`` with types
ID_NUMBER, PHONE, PERSON, ADDRESS, BANK_CARD, LICENSE_PLATE; offsets are Python
character offsets into ``text``. Bad lines are reported on stderr with their line
number and skipped; the exit code is then 1. Text is never echoed unmasked.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, Any

from pingan.cli import CommandError


def register(subparsers: Any) -> None:
    pii = subparsers.add_parser("pii", help="free-text PII: find and mask it")
    sub = pii.add_subparsers(dest="pii_command", metavar="SUBCOMMAND", required=True)
    scan = sub.add_parser("scan", help="scan a JSONL file of notes and write entities and masked text")
    scan.add_argument("notes", type=Path, help='JSONL file, one {"id": ..., "text": ...} per line')
    scan.add_argument("--out", type=Path, default=None, help="write results here instead of stdout")
    scan.set_defaults(handler=_scan)


def _parse(line: str) -> tuple[object, str, list[str]]:
    """(id, text, known_names) of one input line; ValueError says what is wrong."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    if "id" not in obj:
        raise ValueError('missing "id"')
    if not isinstance(obj["id"], (str, int)) or isinstance(obj["id"], bool):
        raise ValueError('"id" must be a string or an integer')
    if "text" not in obj:
        raise ValueError('missing "text"')
    if not isinstance(obj["text"], str):
        raise ValueError('"text" must be a string')
    names = obj.get("known_names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError('"known_names" must be a list of strings')
    return obj["id"], obj["text"], names


def scan(source: IO[str], out: IO[str], err: IO[str], *, name: str) -> int:
    """Scan ``source`` line by line; returns the number of bad lines."""
    from hub.masking.freetext import default_masker

    masker = default_masker()
    bad = 0
    for lineno, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            note_id, text, names = _parse(line)
        except ValueError as exc:
            print(f"{name}:{lineno}: {exc}; line skipped", file=err)
            bad += 1
            continue
        try:
            result = masker.mask(text, names)
        except Exception as exc:  # noqa: BLE001 - fail safe: report, never print the text
            print(f"{name}:{lineno}: analysis failed ({type(exc).__name__}); line skipped", file=err)
            bad += 1
            continue
        record = {
            "id": note_id,
            "entities": [{"type": e.type, "start": e.start, "end": e.end} for e in result.entities],
            "masked": result.masked,
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return bad


def _scan(args: argparse.Namespace) -> int:
    notes: Path = args.notes
    if not notes.is_file():
        raise CommandError(f"{notes}: no such file")
    try:
        source = notes.open(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"{notes}: cannot read ({exc.strerror})") from None
    with source:
        try:
            if args.out is None:
                bad = scan(source, sys.stdout, sys.stderr, name=str(notes))
            else:
                try:
                    target = args.out.open("w", encoding="utf-8")
                except OSError as exc:
                    raise CommandError(f"{args.out}: cannot write ({exc.strerror})") from None
                with target:
                    bad = scan(source, target, sys.stderr, name=str(notes))
        except UnicodeDecodeError as exc:
            raise CommandError(f"{notes}: not UTF-8 text (byte {exc.start})") from None
    if bad:
        print(f"{notes}: {bad} bad line(s) skipped", file=sys.stderr)
        return 1
    return 0
