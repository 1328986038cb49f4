"""Chinese addresses: administrative levels, roads, estates and house numbers.

An address is two or more levels (区, 街道, 社区/村, 路, 小区, 18号, 3栋...) in a row;
lead-in words swallowed by the leftmost regex match (家住, 搬至, 到) are trimmed with
jieba tokens of a small window. Simplified and traditional suffixes are both listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from hub.masking.lexicon import LANGUAGE, alternation, both_scripts, is_han, word_tags

_ADMIN_SUFFIX = alternation(
    ["自治区", "省", "市", "自治州", "区", "县", "旗", "街道", "镇", "乡", "社区", "村", "居委会"]
)
_PLACE_SUFFIX = alternation("""大道 路 街 巷 弄 胡同 小区 花园 新村 公寓 大厦 家园 苑 里 广场 山庄""".split())
_NUM = r"[0-9一二三四五六七八九十百零〇]+"
_UNIT = alternation(["号院", "号楼", "号", "栋", "幢", "座", "单元", "室", "楼", "层", "组", "户", "房"])
_NUM_COMPONENT = rf"(?:{_NUM}(?:[-－之]{_NUM})?(?:{_UNIT}))"
_NAMED_COMPONENT = rf"(?:[\u4e00-\u9fff]{{1,7}}?(?:{_ADMIN_SUFFIX}|{_PLACE_SUFFIX}))"
_ADDRESS = re.compile(
    rf"(?:{_NAMED_COMPONENT}|{_NUM_COMPONENT})(?:{_NAMED_COMPONENT}|{_NUM_COMPONENT}){{1,12}}"
    # a trailing 之2 after a number, or a bare room number after 栋/座/单元 (3栋1502)
    rf"(?:之{_NUM}|(?<=[栋棟幢座元楼樓])[0-9]{{3,4}}(?![0-9]))?"
)
_FIRST_SUFFIX = re.compile(rf"(?:{_ADMIN_SUFFIX}|{_PLACE_SUFFIX})")
# Parts of speech that cannot be part of a place name (verbs, prepositions, pronouns...).
_NON_PLACE_TAGS = frozenset("""v vd vn p r c u uj ul uz ug uv ud d m q t f y e zg a ad an""".split())
_NON_PLACE_WORDS = frozenset(
    both_scripts(
        [
            "本",
            "该",
            "此",
            "各",
            "全",
            "辖",
            "我",
            "你",
            "他",
            "她",
            "其",
            "本村",
            "本社区",
            "搬至",
            "搬到",
            "住在",
            "家住",
            "现住",
            "租住",
            "居住",
            "位于",
            "前往",
            "来到",
            "回到",
            "迁至",
            "迁到",
            "住址",
            "地址",
        ]
    )
)


Segmenter = Callable[[str], list[str]]


def _jieba_segment(text: str) -> list[str]:
    import jieba

    return jieba.lcut(text)


def _window_tokens(text: str, start: int, end: int, segment: Segmenter) -> list[tuple[int, int, str]]:
    """Tokens of ``text[start:end]`` with offsets into ``text``."""
    out, pos = [], start
    for word in segment(text[start:end]):
        out.append((pos, pos + len(word), word))
        pos += len(word)
    return out


def _address_start(text: str, m: re.Match[str], tokens: list[tuple[int, int, str]]) -> int | None:
    """Where the address really begins inside the match's first component.

    The regex's leftmost match may swallow lead-in words (家住, 到, 走访了); walk
    jieba's tokens back from the first level suffix and keep only name-like tokens.
    """
    suffix = _FIRST_SUFFIX.search(text, m.start(), m.end())
    if suffix is None or not tokens:
        return m.start()
    tags = word_tags()
    # index of the token containing the suffix's first character
    idx = next((i for i, (s, e, _) in enumerate(tokens) if s <= suffix.start() < e), None)
    if idx is None:
        return m.start()
    start = max(tokens[idx][0], m.start())
    if suffix.start() - start < 2 and start > m.start():
        # a one-character name part (东风|中路, 五|山路): take the token before too, unless not a place word
        prev = tokens[idx - 1][2] if idx > 0 and tokens[idx - 1][0] >= m.start() else ""
        if prev and is_han(prev) and tags.get(prev) not in _NON_PLACE_TAGS and prev not in _NON_PLACE_WORDS:
            idx -= 1
            start = tokens[idx][0]
    if start == suffix.start():
        # the suffix is a token of its own (石牌|街道): the name is the token before it
        if idx == 0 or tokens[idx - 1][0] < m.start():
            return None
        prev = tokens[idx - 1][2]
        if tags.get(prev) in _NON_PLACE_TAGS or prev in _NON_PLACE_WORDS or not is_han(prev):
            return None
        idx -= 1
        start = tokens[idx][0]
    while idx > 0:
        s, _, word = tokens[idx - 1]
        if s < m.start() or not is_han(word) or tags.get(word) not in ("ns", "nz"):
            break
        idx -= 1
        start = s
    return start


class AddressRecognizer(EntityRecognizer):
    """Chinese addresses: two or more levels (区, 街道, 社区/村, 路, 小区, 18号, 3栋...).

    One level alone (本社区, 该村) is not an address. Lead-in words are trimmed with
    jieba tokens (see :func:`_address_start`). Only a short window around each
    candidate's first level is segmented (``segment``, the spaCy pipeline's jieba
    tokenizer): segmenting the whole note cost more than all recognizers together.
    """

    def __init__(self, segment: Segmenter | None = None) -> None:
        self._segment = segment or _jieba_segment
        super().__init__(
            supported_entities=["ADDRESS"], name="ChineseAddressRecognizer", supported_language=LANGUAGE
        )

    def load(self) -> None:
        word_tags()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results = []
        for m in _ADDRESS.finditer(text):
            suffix = _FIRST_SUFFIX.search(text, m.start(), m.end())
            window_end = min(len(text), (suffix.end() if suffix else m.end()) + 4)
            tokens = _window_tokens(text, max(0, m.start() - 4), window_end, self._segment)
            start = _address_start(text, m, tokens)
            if start is None:
                # First component was not a place: retry from the next component.
                rest = _ADDRESS.match(text, _FIRST_SUFFIX.search(text, m.start()).end())
                if rest is None or rest.end() != m.end():
                    continue
                start = rest.start()
            span = text[start : m.end()]
            if len(_ADDRESS_LEVEL.findall(span)) < 2:
                continue
            results.append(RecognizerResult("ADDRESS", start, m.end(), 0.7))
        return results


_ADDRESS_LEVEL = re.compile(rf"{_ADMIN_SUFFIX}|{_PLACE_SUFFIX}|{_NUM_COMPONENT}")
