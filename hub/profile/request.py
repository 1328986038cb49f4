"""Validation of profile requests, before anything is resolved or fetched.

Raw identifiers in a query stay in memory: they are handed to an adapter's
Tokenize and dropped. Error messages name the field that is wrong, never its value.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass

from hub.auth.claims import DIGIT_RUN_RULE, holds_raw_identifier
from pingan.serving import invalid_argument
from pingan.v1 import linkage_pb2, profile_pb2

# Patterns end in \Z, not $ ($ also matches before a trailing newline), and are applied
# with fullmatch, so "routine_visit\n" is not a purpose.
PURPOSE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}\Z")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}\Z")
PERSON_ID_RE = re.compile(r"^[A-Za-z0-9_-]{4,64}\Z")
HOUSEHOLD_ID_RE = PERSON_ID_RE
ID_NUMBER_RE = re.compile(r"^(\d{17}[\dXx]|\d{15})\Z")
# What the adapters' ID-number normaliser drops before reading (adapters/linkage/idnumber.py _STRIP).
_ID_SEPARATORS = re.compile(r"[\s\-_.·]")
# A phone the adapters can read (adapters/linkage/phone.py normalize_phone, mirrored here so
# an unreadable number is refused before any adapter is asked; tests/hub/profile/test_request.py
# checks that both agree): a mobile number, 11 digits starting 13-19, or a landline, an area
# code starting 0 and a 7-8 digit local number; +86 / 0086 / 86 in front and an extension
# (转, ext, x, #) after are dropped.
_MOBILE = re.compile(r"^1[3-9]\d{9}\Z")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}\Z")
_EXTENSION = re.compile(r"(转|ext\.?|x|#).*$", re.IGNORECASE)
MAX_PHONE_CHARS = 32
MAX_JUSTIFICATION_CHARS = 2000
MAX_NAME_CHARS = 40
MAX_BIRTH_DATE_CHARS = 20

PHONE_HINT = (
    "a mobile number (11 digits starting 13-19) or a landline with its area code (e.g. 021-66668888), "
    f"optionally with +86 or an extension, at most {MAX_PHONE_CHARS} characters"
)
REQUEST_ID_HINT = "8-128 characters of letters, digits, '.', '_', ':' or '-' (e.g. a UUID)"


@dataclass(frozen=True, slots=True)
class PersonLookup:
    """How to find the person: a hub person id, or identifiers to tokenise."""

    kind: str  # "person_id", "id_number", "phone", "name_and_birth_date"
    person_id: str = ""
    identity: linkage_pb2.IdentityQuery | None = None

    def __repr__(self) -> str:  # never print raw identifiers
        return f"PersonLookup(kind={self.kind!r})"


@dataclass(frozen=True, slots=True)
class Ask:
    """A validated profile or household request."""

    lookup: PersonLookup | None
    household_id: str
    purpose: str
    justification: str
    request_id: str


def parse_lookup(query: profile_pb2.PersonQuery, *, required: bool = True) -> PersonLookup | None:
    kind = query.WhichOneof("by")
    if kind is None:
        if required:
            raise invalid_argument("query: set one of person_id, id_number, phone or name_and_birth_date")
        return None
    if kind == "person_id":
        if not PERSON_ID_RE.fullmatch(query.person_id):
            raise invalid_argument("query.person_id: not a hub person id (4-64 letters, digits, '_' or '-')")
        return PersonLookup(kind, person_id=query.person_id)
    if kind == "id_number":
        # NFKC folds full-width digits (１１０１…), and spaces and separators go, the way the
        # adapters' normaliser (adapters/linkage/idnumber.py) reads a number.
        value = _ID_SEPARATORS.sub("", unicodedata.normalize("NFKC", query.id_number))
        if not ID_NUMBER_RE.fullmatch(value):
            raise invalid_argument("query.id_number: expected 18 characters (17 digits and a digit or X) or 15 digits")
        return PersonLookup(kind, identity=linkage_pb2.IdentityQuery(id_number=value))
    if kind == "phone":
        if len(query.phone) > MAX_PHONE_CHARS:
            raise invalid_argument(f"query.phone: at most {MAX_PHONE_CHARS} characters; give {PHONE_HINT}")
        if not readable_phone(query.phone):
            raise invalid_argument(
                f"query.phone: not a phone number the departments can read; give {PHONE_HINT}"
            )
        return PersonLookup(kind, identity=linkage_pb2.IdentityQuery(phone=query.phone.strip()))
    nb = query.name_and_birth_date
    name, birth = nb.name.strip(), nb.birth_date.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise invalid_argument(f"query.name_and_birth_date.name: required, at most {MAX_NAME_CHARS} characters")
    if not birth or len(birth) > MAX_BIRTH_DATE_CHARS:
        raise invalid_argument(
            "query.name_and_birth_date.birth_date: required (e.g. 1990-03-07, 1990/3/7, 19900307, 1990年3月7日)"
        )
    return PersonLookup(kind, identity=linkage_pb2.IdentityQuery(name=name, birth_date=birth))


def _common(purpose: str, justification: str, request_id: str) -> tuple[str, str, str]:
    if not purpose:
        raise invalid_argument("purpose: required (e.g. routine_visit, case_handling, assistance, emergency)")
    if not PURPOSE_RE.fullmatch(purpose):
        raise invalid_argument("purpose: lower-case letters, digits and '_', 2-40 characters")
    if len(justification) > MAX_JUSTIFICATION_CHARS:
        raise invalid_argument(f"justification: at most {MAX_JUSTIFICATION_CHARS} characters")
    if request_id and not REQUEST_ID_RE.fullmatch(request_id):
        raise invalid_argument(f"request_id: {REQUEST_ID_HINT}")
    if request_id and holds_raw_identifier(request_id):
        raise invalid_argument(
            f"request_id: {DIGIT_RUN_RULE}; use a UUID or split the digits (e.g. 2024-05-01-1234)"
        )
    return purpose, justification.strip(), request_id or uuid.uuid4().hex


def parse_profile_request(request: profile_pb2.GetPersonProfileRequest) -> Ask:
    lookup = parse_lookup(request.query)
    purpose, justification, request_id = _common(request.purpose, request.justification, request.request_id)
    return Ask(lookup, "", purpose, justification, request_id)


def parse_household_request(request: profile_pb2.GetHouseholdRequest) -> Ask:
    household_id = request.household_id.strip()
    lookup = parse_lookup(request.query, required=not household_id)
    if household_id and lookup is not None:
        raise invalid_argument("give either household_id or query, not both")
    if household_id and not HOUSEHOLD_ID_RE.fullmatch(household_id):
        raise invalid_argument("household_id: not a hub household id")
    purpose, justification, request_id = _common(request.purpose, request.justification, request.request_id)
    return Ask(lookup, household_id, purpose, justification, request_id)


def valid_request_id(request_id: str) -> bool:
    """A request id the hub accepts and the audit log can store (see :func:`_common`)."""
    return REQUEST_ID_RE.fullmatch(request_id) is not None and not holds_raw_identifier(request_id)


def readable_phone(text: str) -> bool:
    """Whether the adapters' phone normaliser reads ``text`` as a mobile or landline number."""
    folded = _EXTENSION.sub("", unicodedata.normalize("NFKC", text).strip())
    digits = re.sub(r"\D", "", folded)
    if folded.startswith("+86") or digits.startswith("0086"):
        digits = digits[2:] if folded.startswith("+86") else digits[4:]
        if digits and not digits.startswith("0") and not _MOBILE.match(digits):
            digits = "0" + digits
    elif len(digits) == 13 and digits.startswith("86") and _MOBILE.match(digits[2:]):
        digits = digits[2:]
    return bool(_MOBILE.match(digits) or _LANDLINE.match(digits))
