"""Chinese words and scripts: jieba's dictionary tags and frequencies, script folding of word lists.

The person-name and address recognizers use them to tell a place or a name
(tags ``ns``, ``nr``, or a word jieba does not know) from an ordinary word
(高血压, 周末, 方面), so that a surname character at the start of a common word is
not taken for a name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from opencc import OpenCC


@lru_cache(maxsize=1)
def word_tags() -> dict[str, str]:
    """word -> jieba POS tag, from the dictionary shipped with jieba (no network)."""
    import jieba

    source = jieba.get_dict_file()
    tags: dict[str, str] = {}
    with source:
        for raw in source:
            parts = raw.decode("utf-8").split() if isinstance(raw, bytes) else raw.split()
            if len(parts) == 3:
                tags[parts[0]] = parts[2]
    return tags


LANGUAGE = "zh"

_S2T = OpenCC("s2t")


def both_scripts(words: Iterable[str]) -> tuple[str, ...]:
    """Words in simplified and traditional script, longest first (for regex alternation)."""
    out = set(words)
    out |= {_S2T.convert(w) for w in out}
    return tuple(sorted(out, key=lambda w: (-len(w), w)))


def alternation(words: Iterable[str]) -> str:
    """A regex alternation of ``words`` in both scripts, longest first."""
    return "|".join(re.escape(w) for w in both_scripts(words))


def is_han(word: str) -> bool:
    """True when every character is a CJK unified ideograph."""
    return bool(word) and all("\u4e00" <= ch <= "\u9fff" for ch in word)


@lru_cache(maxsize=1)
def _jieba_freq() -> dict[str, int]:
    import jieba

    jieba.initialize()
    return jieba.dt.FREQ


def word_freq(word: str) -> int:
    """jieba's dictionary frequency of ``word`` (0 when unknown)."""
    return _jieba_freq().get(word) or 0
