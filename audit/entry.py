"""Audit entries and their canonical bytes.

Every entry is a frozen dataclass with a ``KIND``. ``to_canonical`` produces
RFC 8785 (JSON Canonicalization Scheme) bytes:
sorted keys, UTF-8, no insignificant whitespace. Floats are refused (latency is
integer microseconds, times are RFC 3339 strings), so every number has exactly
one spelling and the same entry always hashes the same.

Serialisation uses the C-accelerated ``json`` encoder with sorted keys, no
whitespace and ``ensure_ascii=False``. For what entries may hold -- ASCII keys,
strings, integers within +-2**53, booleans, null, lists, objects -- that is
byte-for-byte RFC 8785 (the tests check it against the ``rfc8785`` reference
implementation); floats and larger integers are refused instead of rounded.

The content takes the best of Apache Ranger's audit record (who, what
resource, which policy, result, client address) and OPA's decision log
(request id, decision id, policy bundle hashes, timing). Identifiers are the
hub's own person ids and keyed hashes, never raw ID numbers, names, phones or
addresses; free text the caller typed (justification, query terms) is a
:class:`audit.sealed.Sealed` value, so the leaf hash covers the ciphertext.

The log wraps each entry in an envelope adding ``index`` and ``logged_at``
(see :class:`LoggedEntry`): those are under the leaf hash too, so a deleted or
reordered entry is named exactly by the verifier.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Union

from audit.errors import EntryError, SealError
from audit.sealed import Sealed

# Defence in depth for REQUIREMENTS.md 7: digit runs shaped like a GB 11643 ID number (18 or
# legacy 15 digits) or a mainland mobile number, standing alone, in an entry's plain text.
_RAW_IDENTIFIER = re.compile(rb"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|\d{15}|1[3-9]\d{9})(?![0-9A-Za-z])")
# _RAW_IDENTIFIER matches exactly the whole ASCII-alphanumeric words of these shapes (its
# look-arounds are word boundaries), and each shape holds a run of 11 digits. Bytes are mapped
# to classes (digit "0", other ASCII letter "a", anything else " ") with one C-speed translate,
# so the runs and the words around them are found with bytes.find instead of a regex scan.
_IDENTIFIER_WORD = re.compile(rb"\d{17}[0-9Xx]|\d{15}|1[3-9]\d{9}")
_CLASSES = bytes(
    ord("0") if chr(b).isdigit() and b < 128 else ord("a") if chr(b).isalpha() and b < 128 else ord(" ")
    for b in range(256)
)
_RUN = b"0" * 11
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


def rfc3339(moment: datetime) -> str:
    """UTC RFC 3339 with microseconds and 'Z' (one spelling per instant).

    ``isoformat``, not ``strftime``: RFC 3339 section 5.6 has a four-digit year, which
    glibc's ``%Y`` does not pad (year 999 came out as ``999-...``)."""
    if moment.tzinfo is None:
        raise EntryError("times must be timezone-aware")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_rfc3339(text: str) -> datetime:
    if not _RFC3339.match(text):
        raise EntryError(f"time {text!r} is not RFC 3339")
    return datetime.fromisoformat(text)


def now_rfc3339() -> str:
    return rfc3339(datetime.now(UTC))


class Outcome(enum.StrEnum):
    """What a caller got from one department section (DESIGN.md, sharing rate)."""

    CLEAR = "clear"
    MASKED = "masked"
    DENIED = "denied"
    UNAVAILABLE = "unavailable"


def _check_header(entry: Any) -> None:
    """Every kind carries a request id and an RFC 3339 time; refuse entries without them."""
    if not isinstance(entry.request_id, str) or not 0 < len(entry.request_id) <= 128:
        raise EntryError(f"{entry.KIND}.request_id must be 1-128 characters")
    if not isinstance(entry.time, str):
        raise EntryError(f"{entry.KIND}.time must be an RFC 3339 string")
    parse_rfc3339(entry.time)


@dataclass(frozen=True)
class Caller:
    """Who asked: the authenticated principal and where from."""

    user: str
    department: str
    roles: tuple[str, ...] = ()
    credential_id: str = ""  # token id (jti) or certificate serial/fingerprint
    client_address: str = ""
    jurisdiction: str = ""  # scope path prefix, e.g. TH/S03


@dataclass(frozen=True)
class FieldDecision:
    """One field of a section and the masking operator applied ("" = shown clear)."""

    name: str
    operator: str = ""


@dataclass(frozen=True)
class Section:
    """One providing department's part of a profile request."""

    department: str
    outcome: Outcome
    datasets: tuple[str, ...] = ()
    fields: tuple[FieldDecision, ...] = ()
    reason: str = ""  # policy rule or error class, never data


@dataclass(frozen=True)
class PolicyVersion:
    """A policy bundle in force and its content hash (hex SHA-256)."""

    name: str
    hash: str


@dataclass(frozen=True)
class AccessEntry:
    """A profile (or other data) request and what each department section yielded."""

    KIND: ClassVar[str] = "access"
    request_id: str
    time: str
    caller: Caller
    purpose: str
    person_id: str = ""
    sections: tuple[Section, ...] = ()
    justification: Sealed | None = None
    query: Sealed | None = None  # sealed description of the query terms
    query_kind: str = ""  # e.g. "id_number", "person_id", "name_dob"; never the value
    policy_versions: tuple[PolicyVersion, ...] = ()
    latency_us: int = 0
    flags: tuple[str, ...] = ()  # e.g. "break_glass_review", "out_of_jurisdiction"
    # The person's actual-residence jurisdiction path (administrative unit, never an
    # address): sharing rates per jurisdiction are computed from it (REQUIREMENTS.md 9).
    jurisdiction: str = ""
    # Hub person ids of the household members the response named (pseudonymous ids,
    # never identifiers): everything that left the hub is in the entry.
    household_members: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_header(self)


@dataclass(frozen=True)
class PolicyChangeEntry:
    """A policy version activated (or rejected) after two-person review."""

    KIND: ClassVar[str] = "policy_change"
    request_id: str
    time: str
    policy: str
    proposer: str
    approver: str
    hash_before: str
    hash_after: str
    action: str = "activated"  # activated | rejected | rolled_back
    note: Sealed | None = None

    def __post_init__(self) -> None:
        _check_header(self)


@dataclass(frozen=True)
class IdentityMergeEntry:
    """Several hub persons found to be one."""

    KIND: ClassVar[str] = "identity_merge"
    request_id: str
    time: str
    actor: str
    before: tuple[str, ...]
    after: str
    reason: str
    score: int = 0  # match weight in thousandths, if automatic

    def __post_init__(self) -> None:
        _check_header(self)


@dataclass(frozen=True)
class IdentitySplitEntry:
    """One hub person found to be several."""

    KIND: ClassVar[str] = "identity_split"
    request_id: str
    time: str
    actor: str
    before: str
    after: tuple[str, ...]
    reason: str

    def __post_init__(self) -> None:
        _check_header(self)


@dataclass(frozen=True)
class AuthFailureEntry:
    """A request refused before any decision: bad token, unknown certificate."""

    KIND: ClassVar[str] = "auth_failure"
    request_id: str
    time: str
    method: str
    reason: str
    client_address: str = ""
    credential_id: str = ""

    def __post_init__(self) -> None:
        _check_header(self)


@dataclass(frozen=True)
class RateLimitedEntry:
    """A caller refused for exceeding their request budget."""

    KIND: ClassVar[str] = "rate_limited"
    request_id: str
    time: str
    caller: Caller
    method: str

    def __post_init__(self) -> None:
        _check_header(self)


Entry = (
    AccessEntry | PolicyChangeEntry | IdentityMergeEntry | IdentitySplitEntry | AuthFailureEntry | RateLimitedEntry
)
KINDS: dict[str, type] = {
    cls.KIND: cls
    for cls in (
        AccessEntry,
        PolicyChangeEntry,
        IdentityMergeEntry,
        IdentitySplitEntry,
        AuthFailureEntry,
        RateLimitedEntry,
    )
}
MAX_SAFE_INTEGER = 2**53 - 1


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}

def _encode(value: Any, where: str | None) -> Any:
    """Entry value -> JSON value; exact-type dispatch first because this runs for every field
    of every append (an access entry has hundreds). ``where`` (the path named in errors) is
    ``None`` on that first pass, so no path is built per field; a refused value is encoded
    again with paths to say which (``entry_to_dict``)."""
    t = type(value)
    if t is str or t is bool or value is None:
        return value
    if t is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
        raise EntryError(f"{where} is outside +-2**53 (RFC 8785 numbers are IEEE doubles)")
    if t is tuple:
        return [_encode(v, where) for v in value]
    names = _FIELD_NAMES.get(t)
    if names is not None:
        if where is None:
            return {n: _encode(getattr(value, n), None) for n in names}
        return {n: _encode(getattr(value, n), f"{where}.{n}") for n in names}
    if t is Sealed:
        return value.to_text()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, float):
        raise EntryError(f"{where} is a float; use integers (e.g. microseconds)")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _FIELD_NAMES[t] = tuple(f.name for f in dataclasses.fields(value))
        return _encode(value, where)
    if isinstance(value, (str, int)):  # subclasses: encode as the base type
        return _encode(str(value) if isinstance(value, str) else int(value), where)
    raise EntryError(f"{where} has unsupported type {type(value).__name__}")


def _decode(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _decode(args[0], value, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise EntryError(f"{where} must be a list")
        (item,) = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return tuple(_decode(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if tp is Sealed:
        if not isinstance(value, str):
            raise EntryError(f"{where} must be a sealed string")
        try:
            return Sealed.from_text(value)
        except SealError as exc:
            raise EntryError(f"{where}: {exc}") from exc
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError as exc:
            raise EntryError(f"{where}: {value!r} is not one of {[m.value for m in tp]}") from exc
    if dataclasses.is_dataclass(tp):
        return _from_dict(tp, value, where)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise EntryError(f"{where} must be an integer")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise EntryError(f"{where} must be a string")
        return value
    raise EntryError(f"{where} has unsupported declared type {tp!r}")


def _from_dict(cls: Any, data: Any, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise EntryError(f"{where} must be an object")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise EntryError(f"{where} has unknown fields {sorted(unknown)}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = _decode(hints[f.name], data[f.name], f"{where}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise EntryError(f"{where} lacks required field {f.name!r}")
    return cls(**kwargs)


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    """The JSON object of an entry, with its ``kind``."""
    if type(entry) not in KINDS.values():
        raise EntryError(f"{type(entry).__name__} is not an audit entry kind")
    try:
        body = _encode(entry, None)
    except EntryError:
        body = _encode(entry, entry.KIND)  # raises again, naming the field
    body["kind"] = entry.KIND
    return body


def entry_from_dict(data: Mapping[str, Any]) -> Entry:
    kind = data.get("kind")
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EntryError(f"unknown entry kind {kind!r}; known: {sorted(KINDS)}")
    body = {k: v for k, v in data.items() if k != "kind"}
    entry = _from_dict(cls, body, kind)
    return typing.cast(Entry, entry)


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 bytes of a JSON value built from entries' types; floats and huge integers refused."""
    _no_floats(obj, "$")
    return _dumps(obj)


def _dumps(obj: Any) -> bytes:
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
            "utf-8"
        )
    except UnicodeEncodeError as exc:
        raise EntryError("text holds a lone surrogate; entries must be valid Unicode") from exc


def _no_floats(obj: Any, where: str) -> None:
    if isinstance(obj, float):
        raise EntryError(f"{where} is a float; canonical entries carry integers only")
    if isinstance(obj, int) and not isinstance(obj, bool) and abs(obj) > MAX_SAFE_INTEGER:
        raise EntryError(f"{where} is outside +-2**53 (RFC 8785 numbers are IEEE doubles)")
    if isinstance(obj, dict):
        for k, v in obj.items():
            _no_floats(v, f"{where}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _no_floats(v, f"{where}[{i}]")


def refuse_raw_identifiers(data: bytes, kind: str) -> None:
    """Raise if canonical bytes hold what looks like a raw ID number or phone number.

    The message names the entry kind only, never the value: the hub must pass
    person ids, keyed hashes or sealed text instead.
    """
    if _holds_raw_identifier(data):
        raise EntryError(
            f"{kind} entry holds a digit run shaped like an ID number (GB 11643) or a phone number in "
            "plain text; pass the hub's person id, a keyed hash, or a sealed field instead"
        )


def _holds_raw_identifier(data: bytes) -> bool:
    """Whether ``_RAW_IDENTIFIER`` matches ``data``; a translate and a few finds instead of
    a regex scan of every byte (this runs on every append; a scan cost ~50 us an entry)."""
    classes = data.translate(_CLASSES)
    run = classes.find(_RUN)
    while run >= 0:
        start = classes.rfind(b" ", 0, run) + 1  # the word holding the run
        end = classes.find(b" ", run)
        end = len(classes) if end < 0 else end
        if _IDENTIFIER_WORD.fullmatch(data, start, end):
            return True
        run = classes.find(_RUN, end)
    return False


def to_canonical(entry: Entry) -> bytes:
    """Canonical bytes of a bare entry (no envelope)."""
    data = _dumps(entry_to_dict(entry))
    refuse_raw_identifiers(data, entry.KIND)
    return data


def from_canonical(data: bytes) -> Entry:
    return entry_from_dict(_parse(data))


def _parse(data: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(data.decode("utf-8"), parse_float=_reject_float)
    except (UnicodeDecodeError, ValueError) as exc:
        raise EntryError(f"not canonical JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise EntryError("an entry must be a JSON object")
    if canonical_json(obj) != data:
        raise EntryError("bytes are valid JSON but not in canonical (RFC 8785) form")
    return obj


def _reject_float(text: str) -> float:
    raise ValueError(f"float {text} not allowed")


@dataclass(frozen=True)
class LoggedEntry:
    """An entry as the log stores it: the leaf is SHA-256(0x00 || canonical)."""

    index: int
    logged_at: str
    entry: Entry = field(compare=True)

    def to_canonical(self) -> bytes:
        body = entry_to_dict(self.entry)
        body["index"] = self.index
        body["logged_at"] = self.logged_at
        data = _dumps(body)
        refuse_raw_identifiers(data, self.entry.KIND)
        return data

    @classmethod
    def from_canonical(cls, data: bytes) -> LoggedEntry:
        obj = _parse(data)
        index, logged_at = obj.pop("index", None), obj.pop("logged_at", None)
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise EntryError("envelope lacks a non-negative integer 'index'")
        if not isinstance(logged_at, str):
            raise EntryError("envelope lacks an RFC 3339 'logged_at'")
        parse_rfc3339(logged_at)
        return cls(index, logged_at, entry_from_dict(obj))
