"""Length-preserving text folding before analysis.

Recognizers and jieba's dictionary work on simplified Chinese with half-width
digits. Folding traditional characters to simplified ones (OpenCC's
``TSCharacters`` table, first candidate, one character for one) and full-width
ASCII to half-width keeps every character at its index, so spans found in the
folded text are exact spans of the original.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def _table() -> dict[int, int]:
    import opencc

    table: dict[int, int] = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
    table[0x3000] = 0x20
    source = Path(opencc.__file__).resolve().parent / "dictionary" / "TSCharacters.txt"
    with source.open(encoding="utf-8") as lines:
        for line in lines:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2 and len(parts[0]) == 1:
                target = parts[1].split(" ")[0]
                if len(target) == 1 and parts[0] != target:
                    table[ord(parts[0])] = ord(target)
    return table


def fold(text: str) -> str:
    """Traditional -> simplified and full-width -> half-width, character for character."""
    return text.translate(_table())
