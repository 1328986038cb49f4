"""Validation of profile requests, before anything is resolved or fetched.

Raw identifiers in a query stay in memory: they are handed to an adapter's
Tokenize and dropped. Error messages name the field that is wrong, never its value.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass

from pingan.serving import invalid_argument
from pingan.v1 import linkage_pb2, profile_pb2

PURPOSE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
PERSON_ID_RE = re.compile(r"^[A-Za-z0-9_-]{4,64}$")
HOUSEHOLD_ID_RE = PERSON_ID_RE
ID_NUMBER_RE = re.compile(r"^(\d{17}[\dXx]|\d{15})$")
# What the adapters' ID-number normaliser drops before reading (adapters/linkage/idnumber.py _STRIP).
_ID_SEPARATORS = re.compile(r"[\s\-_.·]")
MAX_JUSTIFICATION_CHARS = 2000
MAX_NAME_CHARS = 40
MAX_BIRTH_DATE_CHARS = 20


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
        if not PERSON_ID_RE.match(query.person_id):
            raise invalid_argument("query.person_id: not a hub person id (4-64 letters, digits, '_' or '-')")
        return PersonLookup(kind, person_id=query.person_id)
    if kind == "id_number":
        # NFKC folds full-width digits (１１０１…), and spaces and separators go, the way the
        # adapters' normaliser (adapters/linkage/idnumber.py) reads a number.
        value = _ID_SEPARATORS.sub("", unicodedata.normalize("NFKC", query.id_number))
        if not ID_NUMBER_RE.match(value):
            raise invalid_argument("query.id_number: expected 18 characters (17 digits and a digit or X) or 15 digits")
        return PersonLookup(kind, identity=linkage_pb2.IdentityQuery(id_number=value))
    if kind == "phone":
        digits = re.sub(r"[^\d]", "", query.phone)
        if not 7 <= len(digits) <= 20:
            raise invalid_argument("query.phone: expected 7 to 20 digits")
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
    if not PURPOSE_RE.match(purpose):
        raise invalid_argument("purpose: lower-case letters, digits and '_', 2-40 characters")
    if len(justification) > MAX_JUSTIFICATION_CHARS:
        raise invalid_argument(f"justification: at most {MAX_JUSTIFICATION_CHARS} characters")
    if request_id and not REQUEST_ID_RE.match(request_id):
        raise invalid_argument("request_id: 8-128 characters of letters, digits, '.', '_', ':' or '-'")
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
    if household_id and not HOUSEHOLD_ID_RE.match(household_id):
        raise invalid_argument("household_id: not a hub household id")
    purpose, justification, request_id = _common(request.purpose, request.justification, request.request_id)
    return Ask(lookup, household_id, purpose, justification, request_id)
