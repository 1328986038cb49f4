"""Presidio recognizers for Chinese PII in simplified and traditional text.

Digits next to Chinese characters have no ``\\b`` between them (both are word
characters), so every numeric pattern uses lookarounds ``(?<![0-9])``/``(?![0-9])``.
Text is analysed after full-width ASCII is folded to half-width (length-preserving,
so spans stay valid for the original text).

Scores: a pattern with a passing checksum scores high; a plausible but unverified
match scores lower and is still above the analysis threshold, so it is masked too
(fail safe: a 15-digit legacy ID or an 18-digit ID with a bad check digit is still
an ID number). Entity types: ID_NUMBER, PHONE, BANK_CARD, LICENSE_PLATE here; ADDRESS in
:mod:`hub.masking.address`; PERSON in :mod:`hub.masking.names`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from hub.masking.address import AddressRecognizer, Segmenter
from hub.masking.chinese_id import is_valid_id18, luhn_valid
from hub.masking.lexicon import LANGUAGE, alternation
from hub.masking.names import KnownNamesRecognizer, SurnameRecognizer

ENTITY_TYPES: tuple[str, ...] = ("ID_NUMBER", "PHONE", "PERSON", "ADDRESS", "BANK_CARD", "LICENSE_PLATE")

__all__ = [
    "ENTITY_TYPES",
    "LANGUAGE",
    "AddressRecognizer",
    "KnownNamesRecognizer",
    "RegexRecognizer",
    "SurnameRecognizer",
    "standard_recognizers",
]

# Scorer: (normalised text, match) -> score, or None to drop the match.
Scorer = Callable[[str, "re.Match[str]"], float | None]


class RegexRecognizer(EntityRecognizer):
    """One entity type found by compiled patterns, each with its own scorer.

    Presidio's ``PatternRecognizer`` only knows a fixed score plus a yes/no
    validator; a checksum that lowers (not drops) a score needs a scorer.
    """

    def __init__(self, entity: str, name: str, patterns: Sequence[tuple[re.Pattern[str], Scorer]]) -> None:
        self._patterns = tuple(patterns)
        super().__init__(supported_entities=[entity], name=name, supported_language=LANGUAGE)

    def load(self) -> None:  # compiled in __init__
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        entity = self.supported_entities[0]
        results: list[RecognizerResult] = []
        for pattern, scorer in self._patterns:
            for m in pattern.finditer(text):
                score = scorer(text, m)
                if score is not None:
                    results.append(RecognizerResult(entity, m.start(), m.end(), score))
        return results


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit() or ch in "Xx")


def _before(text: str, start: int, width: int = 8) -> str:
    return text[max(0, start - width) : start]


_DATE = r"(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_ID18 = re.compile(rf"(?<![0-9A-Za-z])[1-9]\d{{5}} ?{_DATE} ?\d{{3}}[0-9Xx](?![0-9A-Za-z])")
_ID18_LOOSE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![0-9A-Za-z])")
_ID_CONTEXT = re.compile(alternation(["身份证", "证件", "公民身份", "身份号"]))


def _score_id18(text: str, m: re.Match[str]) -> float:
    return 0.95 if is_valid_id18(_digits(m.group())) else 0.7


def _score_id18_loose(text: str, m: re.Match[str]) -> float | None:
    # Not date-shaped: an ID only when the context says so, else leave it to BANK_CARD.
    return 0.6 if _ID_CONTEXT.search(_before(text, m.start(), 10)) else None


def _score_id15(text: str, m: re.Match[str]) -> float:
    # Next to 身份证 it beats a Luhn-valid bank card reading of the same 15 digits.
    return 0.9 if _ID_CONTEXT.search(_before(text, m.start(), 10)) else 0.5


def id_number_recognizer() -> RegexRecognizer:
    """Resident ID numbers (GB 11643): 18 digits with date and check digit, and 15-digit legacy IDs."""
    return RegexRecognizer(
        "ID_NUMBER",
        "ChineseIdNumberRecognizer",
        [(_ID18, _score_id18), (_ID18_LOOSE, _score_id18_loose), (_ID15, _score_id15)],
    )


_MOBILE = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?![0-9])")
_LANDLINE = re.compile(
    r"(?<![0-9])(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3})[- ]?[2-9]\d{2,3}[- ]?\d{4}"
    r"(?:(?:-|转|轉|#)\d{1,5})?(?![0-9])"
)
_LOCAL = re.compile(r"(?<![0-9])[2-9]\d{2,3}[- ]?\d{4}(?![0-9])")
_PHONE_CONTEXT = re.compile(
    alternation(["电话", "座机", "手机", "联系", "致电", "号码", "来电", "拨打", "tel", "Tel"])
)


def phone_recognizer() -> RegexRecognizer:
    """Mobile numbers (1[3-9]x, optional +86), landlines with area code, local numbers next to 电话."""
    return RegexRecognizer(
        "PHONE",
        "ChinesePhoneRecognizer",
        [
            (_MOBILE, lambda t, m: 0.85),
            (_LANDLINE, lambda t, m: 0.75),
            (_LOCAL, lambda t, m: 0.6 if _PHONE_CONTEXT.search(_before(t, m.start(), 8)) else None),
        ],
    )


_CARD = re.compile(r"(?<![0-9])\d{4}(?:[ -]?\d){11,15}(?![0-9])")
_CARD_CONTEXT = re.compile(
    alternation(["卡号", "银行", "账号", "账户", "帐号", "帐户", "银行卡", "存折", "社保卡", "工资卡"])
)
_ID_SHAPED = re.compile(rf"^[1-9]\d{{5}}{_DATE}\d{{3}}[0-9Xx]$")


def _score_card(text: str, m: re.Match[str]) -> float | None:
    digits = _digits(m.group())
    if not 15 <= len(digits) <= 19 or _ID_SHAPED.match(digits):
        return None
    if luhn_valid(digits):
        return 0.8
    return 0.5 if _CARD_CONTEXT.search(_before(text, m.start(), 10)) else None


def bank_card_recognizer() -> RegexRecognizer:
    """Bank card numbers: 15-19 digits (spaces or dashes allowed) passing Luhn, or next to 卡号."""
    return RegexRecognizer("BANK_CARD", "ChineseBankCardRecognizer", [(_CARD, _score_card)])


_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼滬遼魯蘇贛陝閩貴粵寧瓊"
_PLATE = re.compile(
    rf"(?<![A-Za-z0-9])[{_PROVINCES}][A-HJ-NP-Z][·•.\- ]?"
    r"(?:[DF][A-HJ-NP-Z0-9][0-9]{4}|[0-9]{5}[DF]|[A-HJ-NP-Z0-9]{4}[0-9][挂學学警港澳掛]?|[A-HJ-NP-Z0-9]{5})"
    r"(?![A-Za-z0-9])"
)


def _score_plate(text: str, m: re.Match[str]) -> float | None:
    body = m.group()[2:]
    return 0.8 if any(ch.isdigit() for ch in body) else None


def license_plate_recognizer() -> RegexRecognizer:
    """Vehicle plates (GA 36-2018): 粤A12345, 粵A·12345, new-energy 粤AD12345 / 粤A12345D."""
    return RegexRecognizer("LICENSE_PLATE", "ChineseLicensePlateRecognizer", [(_PLATE, _score_plate)])


def standard_recognizers(segment: Segmenter | None = None) -> list[EntityRecognizer]:
    """Every recognizer except the per-request known names; ``segment`` splits Chinese words."""
    return [
        id_number_recognizer(),
        phone_recognizer(),
        bank_card_recognizer(),
        license_plate_recognizer(),
        AddressRecognizer(segment),
        SurnameRecognizer(),
    ]
