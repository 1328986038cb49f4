"""Find the person a request is about, without the hub ever holding a secret.

Raw identifiers are tokenised by a department adapter (``Tokenize``), the
resulting encoding is looked up in the identity index, and the raw values are
dropped. A query that matches nobody, or several people about equally, is
NOT_FOUND with a message telling the caller how to narrow it; a value the departments
cannot read (an adapter refuses it, or tokenises it into no key to look up) is
INVALID_ARGUMENT naming the query field, never its value.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc

from hub.departments.client import DepartmentClient
from hub.identity.errors import BatchRejected, IdentityError
from hub.identity.index import IdentityIndex, PersonInfo
from hub.profile.request import PHONE_HINT, PersonLookup
from pingan.serving import StatusError, invalid_argument, unavailable
from pingan.v1 import linkage_pb2

log = logging.getLogger(__name__)

# A match is accepted when its posterior is at least this and clearly ahead of the next.
MIN_PROBABILITY = 0.9
MIN_MARGIN = 0.2

# What to give instead, per query kind, when the departments cannot read the value.
_EXPECTED = {
    "id_number": "18 characters (17 digits and a digit or X) or 15 digits",
    "phone": PHONE_HINT,
    "name_and_birth_date": (
        "the name as registered and a birth date such as 1980-01-02, 19800102 or 1980年1月2日"
    ),
}
# Exact token kinds an adapter makes from a phone it could read (adapters/linkage/encoder.py).
_PHONE_KEYS = frozenset({"phone", "landline"})
# Runs of digits are blanked out of logged adapter details, in case one echoes a value.
_DIGIT_RUN = re.compile(r"\d{7,}")


class PersonNotFound(StatusError):
    """Nobody (or nobody unambiguously) matches; audited by the caller of resolve()."""

    def __init__(self, message: str) -> None:
        super().__init__(grpc.StatusCode.NOT_FOUND, message)


@dataclass(frozen=True, slots=True)
class Resolved:
    person: PersonInfo
    probability: float


class PersonResolver:
    def __init__(self, index: IdentityIndex, clients: Sequence[DepartmentClient]) -> None:
        self._index = index
        self._clients = list(clients)

    async def resolve(self, lookup: PersonLookup, request_id: str) -> Resolved:
        return await asyncio.to_thread(await self.finder(lookup, request_id))

    async def finder(self, lookup: PersonLookup, request_id: str) -> Callable[[], Resolved]:
        """Tokenise raw identifiers now (an adapter call, on the event loop) and return the
        index reads as a function, for the caller's worker-thread hop: a profile finds the
        person, reads the records and decides in one hop (hub.profile.assembly.plan).
        The function raises :class:`PersonNotFound` when nobody matches."""
        if lookup.kind == "person_id":
            return functools.partial(self._by_id, lookup.person_id)
        assert lookup.identity is not None
        encoding = await self._tokenize(lookup, request_id)
        keys = {t.kind for t in encoding.exact}
        if lookup.kind == "name_and_birth_date" and "name_birth" not in keys:
            # The adapter makes the name + birth date key only when it could read both.
            raise invalid_argument(
                "query.name_and_birth_date: the name or the birth date could not be read: give "
                + _EXPECTED["name_and_birth_date"]
            )
        if lookup.kind == "phone" and not keys & _PHONE_KEYS:
            # Likewise the phone key: without it the index has nothing to look the phone up by.
            raise invalid_argument(
                f"query.phone: not a phone number the departments can read; give {PHONE_HINT}"
            )
        if not encoding.exact and not encoding.bloom:
            raise invalid_argument(
                f"query.{lookup.kind}: the departments could not read it; give {_expected(lookup)}"
            )
        return functools.partial(self._match, encoding, lookup.kind.replace("_", " "))

    def _by_id(self, person_id: str) -> Resolved:
        info = self._index.person(person_id)
        if info is None:
            raise PersonNotFound("no person with this person_id")
        return Resolved(info, 1.0)

    def _match(self, encoding: linkage_pb2.LinkageEncoding, asked_by: str) -> Resolved:
        try:
            found = self._index.lookup(encoding)
        except BatchRejected as exc:
            # Not the caller's doing (an unreadable query is refused in finder()): the adapter's
            # tokens do not fit the index (another linkage scheme or secret). The message names
            # the problem, never an encoding.
            log.warning("identity index refused a department's query encoding: %s", exc)
            raise unavailable(
                "the departments' tokens for this query do not fit the hub's identity index "
                "(linkage scheme mismatch; the operator has the details); retry later"
            ) from None
        except IdentityError as exc:
            log.warning("identity index cannot answer a lookup: %s", exc)
            raise unavailable("the identity index is not ready to answer; retry later") from None
        matches = sorted(found, key=lambda m: m.probability, reverse=True)
        if not matches or matches[0].probability < MIN_PROBABILITY:
            raise PersonNotFound(f"no person matches this {asked_by}")
        if len(matches) > 1 and matches[0].probability - matches[1].probability < MIN_MARGIN:
            raise PersonNotFound(f"several persons match this {asked_by}; ask by ID number or person id")
        info = self._index.person(matches[0].person_id)
        if info is None:  # merged or split between lookup and read
            raise unavailable("the identity index changed during the request; retry")
        return Resolved(info, matches[0].probability)

    async def _tokenize(self, lookup: PersonLookup, request_id: str) -> linkage_pb2.LinkageEncoding:
        """The first adapter's encoding of the query. An adapter that refuses the value as
        malformed (INVALID_ARGUMENT) speaks for all of them (they share one normaliser), so the
        caller is told to correct it; otherwise the next adapter is tried. The caller hears
        department and status names only; the adapters' details (addresses, messages) go
        to the log."""
        failures = []
        for client in self._clients:
            result = await client.tokenize(request_id, lookup.identity)  # type: ignore[arg-type]
            if result.ok:
                return result.response.encoding  # type: ignore[union-attr]
            detail = _DIGIT_RUN.sub("<digits>", str(result.error))[:500]
            log.warning(
                "Tokenize (request %s, query by %s) on %s failed: %s", request_id, lookup.kind, client.name, detail
            )
            if result.code == grpc.StatusCode.INVALID_ARGUMENT:
                raise invalid_argument(
                    f"query.{lookup.kind}: the {client.name} department's adapter refused the value as "
                    f"malformed; give {_expected(lookup)}"
                )
            failures.append(f"{client.name}: {result.code.name if result.code is not None else 'circuit open'}")
        raise unavailable(
            "no department adapter could tokenise the query ("
            + "; ".join(failures or ["none configured"])
            + "); retry later"
        )


def _expected(lookup: PersonLookup) -> str:
    return _EXPECTED.get(lookup.kind, "another value")
