"""Person names: NFKC, traditional -> simplified Chinese, separators removed.

NFKC (Unicode UAX #15) folds full-width letters and compatibility forms; OpenCC's
``t2s`` table maps traditional characters to simplified ones so that 張偉 and 张伟
compare equal; whitespace and the middle-dot variants used in transliterated
names (·・•‧ and friends, e.g. 阿卜杜·热合曼) are removed; Latin letters are
lower-cased. Invisible format characters (Unicode general category Cf: zero-width
spaces and joiners, the byte-order mark, bidirectional marks and isolates, the soft
hyphen), which text pasted from messaging apps and web forms carries, are removed
first, so that "张\u200b伟" is 张伟 as the person typing it sees it.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# U+00B7 middle dot, U+30FB katakana middle dot, U+FF65 half-width katakana middle dot,
# U+2022 bullet, U+2027 hyphenation point, U+2219 bullet operator, U+22C5 dot operator,
# U+0387 Greek ano teleia, U+16EB runic single punctuation, U+2E31 word separator middle dot.
# Unicode Cf characters met in pasted text (UAX #9 bidi controls, UAX #14 zero-width
# characters, U+FEFF BOM, U+00AD soft hyphen, U+180E Mongolian vowel separator).
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]+")
_SEPARATORS = re.compile("[\\s\u00b7\u30fb\uff65\u2022\u2027\u2219\u22c5\u0387\u16eb\u2e31.,\\-_'\u2019]+")


@functools.cache
def _t2s():  # type: ignore[no-untyped-def]
    """The OpenCC traditional->simplified converter (slow to build, so built once)."""
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert traditional Chinese characters to simplified ones (OpenCC t2s)."""
    return _t2s().convert(text)


def normalize_name(text: str | None) -> str | None:
    """Normalised name, or ``None`` when nothing is left."""
    if not text:
        return None
    folded = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    folded = _SEPARATORS.sub("", folded).lower()
    if not folded:
        return None
    return to_simplified(folded)
