"""Surname and given name of a raw name, for separate comparison (scheme ``pingan-link-v2``).

Splink-style linkage compares given name and surname separately (Splink's
``NameComparison``; Christen, *Data Matching* 2012, sec. 5.2): a typo or a
swap in one part then leaves the other part's evidence intact.

* Latin script: the raw name is split on whitespace *before* normalisation
  removes the spaces; ``Surname, Given`` (a comma) puts the surname first,
  otherwise the last word is the surname and the words before it the given name;
  one-letter words (initials, or fragments of a mistyped space as in ``georg e``)
  are dropped.
* Chinese: the surname is a compound surname (复姓, one of the 58 below) when
  the name starts with one, else its first character; the rest is the given
  name. A transliterated name with a middle dot (阿卜杜·热合曼) has no surname in
  the Han sense: the part after the last dot is taken as the "surname" slot and
  the rest as the given name, which the resolver also compares crosswise.

Each part is normalised like a whole name (``names.normalize_name``); the parts
never leave the adapter, only their Bloom filters do.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from adapters.linkage.names import normalize_name

# Compound surnames (复姓) in current use, from the Hundred Family Surnames (百家姓) list.
COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "令狐", "夏侯", "轩辕", "澹台", "公冶", "宗政", "濮阳", "淳于", "单于", "太叔", "申屠", "钟离",
    "闻人", "万俟", "赫连", "南宫", "西门", "端木", "呼延", "独孤", "第五", "百里", "东郭", "拓跋",
    "左丘", "司空", "微生", "羊舌", "亓官", "公羊", "梁丘", "公良", "乐正", "谷梁", "漆雕", "壤驷",
    "巫马", "子车", "颛孙", "仲孙", "鲜于", "闾丘", "东门", "公西", "段干", "南门",
))
_HAN = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")
_DOTS = re.compile("[\u00b7\u30fb\uff65\u2022\u2027\u2219\u22c5\u0387\u16eb\u2e31]")


@dataclass(frozen=True, slots=True)
class NameParts:
    """Normalised surname and given name; either may be ``None``."""

    surname: str | None
    given: str | None


def _han_parts(name: str) -> NameParts:
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return NameParts(name[:2], name[2:])
    return NameParts(name[0], name[1:] or None)


def split_name(text: str | None) -> NameParts:
    """Surname and given name of a raw name (see the module docstring for the rules)."""
    if not text:
        return NameParts(None, None)
    folded = unicodedata.normalize("NFKC", text).strip()
    whole = normalize_name(folded)
    if whole is None:
        return NameParts(None, None)
    if _HAN.match(whole) and not _DOTS.search(folded):
        return _han_parts(whole)
    if "," in folded:
        head, _, tail = folded.partition(",")
        return NameParts(normalize_name(head), normalize_name(tail))
    words = [w for w in re.split(r"\s+|" + _DOTS.pattern, folded) if normalize_name(w)]
    # One-letter words are initials or fragments of a mistyped space ("georg e"): dropped.
    words = [w for w in words if len(normalize_name(w) or "") > 1] or words
    if len(words) < 2:
        return NameParts(normalize_name(words[0]) if words else whole, None)
    return NameParts(normalize_name(words[-1]), normalize_name(" ".join(words[:-1])))
