"""Writes the hub's audit entries and hands out receipts: fail closed.

Every profile or household response waits for its entry to be durably stored;
if the audit store cannot take it, the request fails with UNAVAILABLE and no
data leaves the hub. Sensitive text (justification, query terms) is sealed with
AES-GCM under the auditors' key before it enters the entry.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from audit.appender import BatchingAppender
from audit.entry import Entry
from audit.sealed import Keyring, Sealed
from audit.store import AuditLog
from pingan.serving import unavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Receipt:
    index: int
    checkpoint: str


class AuditRecorder:
    def __init__(self, log_: AuditLog, appender: BatchingAppender, keyring: Keyring | None) -> None:
        self.log = log_
        self._appender = appender
        self._keyring = keyring

    def seal(self, text: str, field: str) -> Sealed | None:
        """Seal personal text for the auditors; without a keyring it is not recorded at all."""
        if not text or self._keyring is None:
            return None
        return self._keyring.seal(text, field)

    def seal_query(self, terms: dict[str, str]) -> Sealed | None:
        present = {k: v for k, v in terms.items() if v}
        if not present:
            return None
        return self.seal(json.dumps(present, ensure_ascii=False, sort_keys=True), "query")

    async def append(self, entry: Entry, *, with_checkpoint: bool = True) -> Receipt:
        """Store ``entry`` durably (raises UNAVAILABLE otherwise); the receipt carries the
        newest checkpoint unless ``with_checkpoint`` is false (an entry whose receipt is
        never shown, such as the fetch intent, skips that read)."""
        try:
            result = await self._appender.append_async(entry)
        except Exception as exc:  # noqa: BLE001 - any storage failure means: no entry, no data
            log.error("audit append failed (%s); request refused", type(exc).__name__)
            raise unavailable("the audit log is unavailable; no data can be released until it is back") from None
        return Receipt(result.index, self._latest_note() if with_checkpoint else "")

    def append_blocking(self, entry: Entry, timeout: float = 30.0) -> int:
        """Append from a worker thread (policy administration, linkage); returns the index."""
        return self._appender.submit(entry).result(timeout).index

    def _latest_note(self) -> str:
        """The newest checkpoint as of the append just made (read inside its transaction; no query)."""
        latest = self.log.newest_checkpoint()
        return latest.note if latest is not None else ""

    def close(self) -> None:
        self._appender.close()
