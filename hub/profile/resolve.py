"""Find the person a request is about, without the hub ever holding a secret.

Raw identifiers are tokenised by a department adapter (``Tokenize``), the
resulting encoding is looked up in the identity index, and the raw values are
dropped. A query that matches nobody, or several people about equally, is
NOT_FOUND with a message telling the caller how to narrow it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import grpc

from hub.departments.client import DepartmentClient
from hub.identity.index import IdentityIndex, PersonInfo
from hub.profile.request import PersonLookup
from pingan.serving import StatusError, unavailable

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
        if lookup.kind == "person_id":
            info = await asyncio.to_thread(self._index.person, lookup.person_id)
            if info is None:
                raise PersonNotFound("no person with this person_id")
            return Resolved(info, 1.0)
        assert lookup.identity is not None
        encoding = await self._tokenize(lookup, request_id)
        matches = await asyncio.to_thread(self._index.lookup, encoding)
        matches = sorted(matches, key=lambda m: m.probability, reverse=True)
        if not matches or matches[0].probability < MIN_PROBABILITY:
            raise PersonNotFound(f"no person matches this {lookup.kind.replace('_', ' ')}")
        if len(matches) > 1 and matches[0].probability - matches[1].probability < MIN_MARGIN:
            raise PersonNotFound(
                f"several persons match this {lookup.kind.replace('_', ' ')}; ask by ID number or person id",
            )
        info = await asyncio.to_thread(self._index.person, matches[0].person_id)
        if info is None:  # merged or split between lookup and read
            raise unavailable("the identity index changed during the request; retry")
        return Resolved(info, matches[0].probability)

    async def _tokenize(self, lookup: PersonLookup, request_id: str):  # type: ignore[no-untyped-def]
        reasons = []
        for client in self._clients:
            result = await client.tokenize(request_id, lookup.identity)  # type: ignore[arg-type]
            if result.ok:
                return result.response.encoding  # type: ignore[union-attr]
            reasons.append(f"{client.name}: {result.error}")
        raise unavailable(
            "no department adapter could tokenise the query (" + "; ".join(reasons or ["none configured"]) + ")"
        )
