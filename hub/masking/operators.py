"""Field masking operators, selected by name from a policy obligation.

Each operator is a pure function ``(value, context, **params) -> value``. The names
are DESIGN.md's: redact, null, keep_first_n, keep_last_n, name_surname_only,
id_number, phone, year_only, age_band, address_to_community, keyed_pseudonym.
An absent value (``None``) stays absent. A value an operator cannot handle raises
:class:`MaskingError` so the caller withholds the field; nothing passes through.
``keep_first_n`` / ``keep_last_n`` never show more than half of a value's characters
(at most ``len // 2``), so a short value is still masked, never returned whole.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping

from hub.masking.context import MaskingContext
from hub.masking.errors import MaskingError
from hub.masking.result import Value
from hub.masking.surnames import split_surname

Operator = Callable[..., Value]

MASK_CHAR = "*"


def _require_str(op: str, value: Value) -> str:
    if not isinstance(value, str):
        raise MaskingError(f"{op}: expects a string value, got {type(value).__name__}")
    return value


def _int_param(op: str, name: str, value: object, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise MaskingError(f"{op}: parameter {name} must be an integer >= {minimum}")
    return value


def _mask_char_param(op: str, mask_char: object) -> str:
    if not isinstance(mask_char, str) or len(mask_char) != 1:
        raise MaskingError(f"{op}: parameter mask_char must be a single character")
    return mask_char


def redact(value: Value, context: MaskingContext, *, replacement: str = "***") -> Value:
    """Replace any present value with a fixed marker (the field exists, its content does not)."""
    if not isinstance(replacement, str):
        raise MaskingError("redact: parameter replacement must be a string")
    return None if value is None else replacement


def null(value: Value, context: MaskingContext) -> Value:
    """Drop the value; the field is shown as absent."""
    return None


def _kept(n: int, text: str) -> int:
    """How many characters keep_first_n / keep_last_n may show: ``n``, at most half the value.

    Showing more than half is no longer masking (the rule ``id_number`` applies): a
    1-character value is one mask character, 王芳 with n=4 is 王* / *芳.
    """
    return min(n, len(text) // 2)


def keep_first_n(value: Value, context: MaskingContext, *, n: int = 1, mask_char: str = MASK_CHAR) -> Value:
    """Keep the first ``n`` characters, but never more than half of them (``len // 2``); mask the rest.

    ABCDEF, n=2 -> AB****; 欧阳建国, n=4 -> 欧阳**; 王芳, n=4 -> 王*; 张 -> *.
    """
    if value is None:
        return None
    n = _int_param("keep_first_n", "n", n)
    mask_char = _mask_char_param("keep_first_n", mask_char)
    text = _require_str("keep_first_n", value)
    kept = _kept(n, text)
    return text[:kept] + mask_char * (len(text) - kept)


def keep_last_n(value: Value, context: MaskingContext, *, n: int = 4, mask_char: str = MASK_CHAR) -> Value:
    """Keep the last ``n`` characters, but never more than half of them (``len // 2``); mask the rest.

    13812345678, n=4 -> *******5678; 欧阳建国, n=4 -> **建国; 王芳, n=4 -> *芳; 张 -> *.
    """
    if value is None:
        return None
    n = _int_param("keep_last_n", "n", n)
    mask_char = _mask_char_param("keep_last_n", mask_char)
    text = _require_str("keep_last_n", value)
    kept = _kept(n, text)
    return mask_char * (len(text) - kept) + text[len(text) - kept :]


def name_surname_only(value: Value, context: MaskingContext, *, mask_char: str = MASK_CHAR) -> Value:
    """Keep the surname, one mask character per given-name character: 张三 -> 张*, 歐陽建國 -> 歐陽**."""
    if value is None:
        return None
    mask_char = _mask_char_param("name_surname_only", mask_char)
    text = _require_str("name_surname_only", value).strip()
    if not text:
        return text
    surname, given = split_surname(text)
    return surname + mask_char * len(given)


def id_number(
    value: Value, context: MaskingContext, *, first: int = 1, last: int = 2, mask_char: str = MASK_CHAR
) -> Value:
    """Show only ``first`` leading and ``last`` trailing characters of an ID number (GB 11643).

    Default 1 + 2: 440106198001011234 -> 4***************34. Showing more than
    half the number is refused: that is no longer masking.
    """
    if value is None:
        return None
    first = _int_param("id_number", "first", first)
    last = _int_param("id_number", "last", last)
    mask_char = _mask_char_param("id_number", mask_char)
    text = _require_str("id_number", value).strip()
    if first + last > len(text) // 2:
        raise MaskingError("id_number: first + last must not exceed half the number's length")
    return text[:first] + mask_char * (len(text) - first - last) + (text[len(text) - last :] if last else "")


_MOBILE = re.compile(r"^(?:\+?86[- ]?)?(1\d{2})[- ]?(\d{4})[- ]?(\d{4})$")
# Area codes: 010 and 02x have three digits, every other (0xxx) four (national numbering plan).
_LANDLINE = re.compile(r"^[(（]?(0[12]\d|0[3-9]\d{2})[)）]?[- ]?(\d{3,4})[- ]?(\d{4})(?:[-#转](\d{1,6}))?$")


def phone(value: Value, context: MaskingContext, *, mask_char: str = MASK_CHAR) -> Value:
    """Mask the middle of a phone number: 13812345678 -> 138****5678, 020-87654321 -> 020-****4321.

    Mobiles keep the 3-digit prefix and last 4 digits; landlines keep the area code
    and last 4 digits; anything else keeps only its last 4 digits (and at most a
    third of its digits) so an unrecognised format is still masked.
    """
    if value is None:
        return None
    mask_char = _mask_char_param("phone", mask_char)
    text = _require_str("phone", value).strip()
    if m := _MOBILE.match(text):
        return f"{m.group(1)}{mask_char * 4}{m.group(3)}"
    if m := _LANDLINE.match(text):
        return f"{m.group(1)}-{mask_char * len(m.group(2))}{m.group(3)}"
    digits = sum(ch.isdigit() for ch in text)
    keep = min(4, digits // 3)
    out, seen = [], 0
    for ch in text:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - keep else mask_char)
        else:
            out.append(ch)
    return "".join(out)


def _as_date(op: str, value: Value) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value.strip())
        except ValueError:
            raise MaskingError(f"{op}: string value is not an ISO date (YYYY-MM-DD)") from None
    raise MaskingError(f"{op}: expects a date, got {type(value).__name__}")


def year_only(value: Value, context: MaskingContext) -> Value:
    """Keep only the year of a date: 1980-01-01 -> 1980."""
    if value is None:
        return None
    return _as_date("year_only", value).year


def age_band(
    value: Value, context: MaskingContext, *, width: int = 10, reference_date: str | None = None
) -> Value:
    """Turn a birth date (or an age) into an age band: width 10 -> "30-39".

    The age is computed on ``reference_date`` (ISO string parameter), else the
    context's reference date, else today.
    """
    if value is None:
        return None
    width = _int_param("age_band", "width", width, minimum=1)
    if reference_date is not None:
        if not isinstance(reference_date, str):
            raise MaskingError("age_band: parameter reference_date must be an ISO date string")
        try:
            today = _dt.date.fromisoformat(reference_date)
        except ValueError:
            raise MaskingError("age_band: parameter reference_date is not an ISO date (YYYY-MM-DD)") from None
    else:
        today = context.today()
    if isinstance(value, int) and not isinstance(value, bool):
        age = value
    else:
        born = _as_date("age_band", value)
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < 0:
        raise MaskingError("age_band: birth date is after the reference date")
    low = age - age % width
    return f"{low}-{low + width - 1}" if width > 1 else str(low)


_JURISDICTION_PATH = re.compile(r"^[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*$")
# Community level (社区/社區, 村, 居委会) ends the kept prefix; coarser levels are fallbacks.
_COMMUNITY_END = re.compile(r"(?:社区|社區|居委会|居委會|村委会|村委會|(?<!新)村)")
_STREET_END = re.compile(r"(?:街道|镇|鎮|乡|鄉)")
_DISTRICT_END = re.compile(r"(?:区|區|县|縣|市)")


def address_to_community(value: Value, context: MaskingContext, *, levels: int = 3) -> Value:
    """Cut an address at the community level of the jurisdiction hierarchy.

    A jurisdiction path district/street/community/grid keeps its first ``levels``
    segments (TH/S03/C07/G05 -> TH/S03/C07). Chinese address text keeps everything
    up to and including the community (社区/村): 广州市天河区石牌街道华师社区18号 ->
    广州市天河区石牌街道华师社区. Without a community level it falls back to the street
    (街道/镇/乡), then the district (区/县/市) — always coarser, never finer; text with
    none of these is refused (withheld).
    """
    if value is None:
        return None
    levels = _int_param("address_to_community", "levels", levels, minimum=1)
    text = _require_str("address_to_community", value).strip()
    if _JURISDICTION_PATH.match(text):
        return "/".join(text.split("/")[:levels])
    for pattern in (_COMMUNITY_END, _STREET_END, _DISTRICT_END):
        if m := pattern.search(text):
            return text[: m.end()]
    raise MaskingError("address_to_community: no community, street or district level found in the address")


def _canonical_bytes(value: Value) -> bytes:
    if isinstance(value, bool):
        return b"b:" + (b"1" if value else b"0")
    if isinstance(value, int):
        return b"i:" + str(value).encode()
    if isinstance(value, _dt.date):
        return b"d:" + value.isoformat().encode()
    if isinstance(value, bytes):
        return b"x:" + value
    if isinstance(value, str):
        return b"s:" + value.strip().encode("utf-8")
    raise MaskingError(f"keyed_pseudonym: cannot pseudonymise a {type(value).__name__}")


def keyed_pseudonym(
    value: Value, context: MaskingContext, *, length: int = 16, domain: str = "", prefix: str = "psn_"
) -> Value:
    """A stable pseudonym: ``psn_`` + base32 of HMAC-SHA256(key, domain, value) (RFC 2104).

    Same key and value give the same pseudonym, so analysts can join records
    without seeing identities; without the key (from configuration) nobody can
    recompute or reverse it. ``domain`` separates pseudonyms of different uses.
    """
    if value is None:
        return None
    length = _int_param("keyed_pseudonym", "length", length, minimum=8)
    if length > 52:
        raise MaskingError("keyed_pseudonym: parameter length must be at most 52")
    if not isinstance(domain, str) or not isinstance(prefix, str):
        raise MaskingError("keyed_pseudonym: parameters domain and prefix must be strings")
    if not context.pseudonym_key:
        raise MaskingError("keyed_pseudonym: no pseudonym key configured ([masking] pseudonym_key_hex)")
    message = domain.encode("utf-8") + b"\x00" + _canonical_bytes(value)
    digest = hmac.new(context.pseudonym_key, message, hashlib.sha256).digest()
    return prefix + base64.b32encode(digest).decode("ascii").rstrip("=").lower()[:length]


#: Operator name -> function. The policy names operators; only these exist.
OPERATORS: Mapping[str, Operator] = {
    "redact": redact,
    "null": null,
    "keep_first_n": keep_first_n,
    "keep_last_n": keep_last_n,
    "name_surname_only": name_surname_only,
    "id_number": id_number,
    "phone": phone,
    "year_only": year_only,
    "age_band": age_band,
    "address_to_community": address_to_community,
    "keyed_pseudonym": keyed_pseudonym,
}
