"""Find the person a request is about, without the hub ever holding a secret.

Raw identifiers are tokenised by a department adapter (``Tokenize``), the
resulting encoding is looked up in the identity index, and the raw values are
dropped. A query that matches nobody, or several people about equally, is
NOT_FOUND with a message telling the caller how to narrow it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc

from hub.departments.client import DepartmentClient
from hub.identity.index import IdentityIndex, PersonInfo
from hub.profile.request import PersonLookup
from pingan.serving import StatusError, unavailable
from pingan.v1 import linkage_pb2

# A match is accepted when its posterior is at least this and clearly ahead of the next.
MIN_PROBABILITY = 0.9
MIN_MARGIN = 0.2


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
        if lookup.kind == "name_and_birth_date" and not any(t.kind == "name_birth" for t in encoding.exact):
            # The adapter makes the name + birth date key only when it could read both.
            raise StatusError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "the name or the birth date could not be read: give the name as registered and a "
                "birth date such as 1980-01-02, 19800102 or 1980年1月2日",
            )
        return functools.partial(self._match, encoding, lookup.kind.replace("_", " "))

    def _by_id(self, person_id: str) -> Resolved:
        info = self._index.person(person_id)
        if info is None:
            raise PersonNotFound("no person with this person_id")
        return Resolved(info, 1.0)

    def _match(self, encoding: linkage_pb2.LinkageEncoding, asked_by: str) -> Resolved:
        matches = sorted(self._index.lookup(encoding), key=lambda m: m.probability, reverse=True)
        if not matches or matches[0].probability < MIN_PROBABILITY:
            raise PersonNotFound(f"no person matches this {asked_by}")
        if len(matches) > 1 and matches[0].probability - matches[1].probability < MIN_MARGIN:
            raise PersonNotFound(f"several persons match this {asked_by}; ask by ID number or person id")
        info = self._index.person(matches[0].person_id)
        if info is None:  # merged or split between lookup and read
            raise unavailable("the identity index changed during the request; retry")
        return Resolved(info, matches[0].probability)

    async def _tokenize(self, lookup: PersonLookup, request_id: str) -> linkage_pb2.LinkageEncoding:
        reasons = []
        for client in self._clients:
            result = await client.tokenize(request_id, lookup.identity)  # type: ignore[arg-type]
            if result.ok:
                return result.response.encoding  # type: ignore[union-attr]
            reasons.append(f"{client.name}: {result.error}")
        raise unavailable(
            "no department adapter could tokenise the query (" + "; ".join(reasons or ["none configured"]) + ")"
        )
