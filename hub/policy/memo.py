"""The decision memo: Rego outputs by (policy version, entrypoint, observable input).

regopy evaluates one section of the default policy in about 2 ms, so a six-section
profile cannot be decided in the 2 ms issue 4 asks for by evaluating every time.
Policies are deterministic functions of their input; the memo key is the input
reduced to what the compiled version can observe (:mod:`hub.policy.input_reads`):
the user id and the request time are dropped when the policy never reads them,
and jurisdiction paths are renamed to their prefix relations when the policy only
tests prefixes. Any input the policy could tell apart gets its own entry, so a hit
returns exactly what the engine would have returned.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from hub.policy.engine import UNDEFINED
from hub.policy.input_reads import InputReads
from hub.policy.jurisdiction import relative_paths


def memo_key(policy_hash: str, reads: InputReads, entrypoint: str, given: dict[str, Any]) -> str:
    """Canonical key of one Rego evaluation under ``policy_hash`` (see module docstring)."""
    subject = dict(given["subject"])
    resource = dict(given["resource"])
    context = dict(given["context"])
    if not reads.user_id:
        subject.pop("user_id", None)
    if not reads.time:
        context.pop("time", None)
    if reads.jurisdictions != "concrete":
        person, scopes = relative_paths(resource.get("jurisdiction", ""), subject.get("jurisdictions", ()))
        resource["jurisdiction"], subject["jurisdictions"] = person, list(scopes)
    keyed = {**given, "subject": subject, "resource": resource, "context": context}
    return "\x1f".join((policy_hash, entrypoint, json.dumps(keyed, sort_keys=True, separators=(",", ":"))))


class DecisionMemo:
    """A bounded, thread-safe LRU map from memo key to Rego output (also used, with
    tuple keys, for finished decisions: :mod:`hub.policy.verdicts`)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Hashable, *, count_miss: bool = True) -> Any:
        """The memoised output, or ``UNDEFINED``; ``count_miss=False`` for a look that will
        not be followed by an evaluation (so ``misses`` counts Rego evaluations)."""
        with self._lock:
            value = self._data.get(key, UNDEFINED)
            if value is not UNDEFINED:
                self._data.move_to_end(key)
                self.hits += 1
            elif count_miss:
                self.misses += 1
            return value

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._data

    def put(self, key: Hashable, value: Any) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            if len(self._data) > self._size:
                self._data.popitem(last=False)
