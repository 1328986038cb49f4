"""Export a range of the log as JSON lines that an auditor verifies offline.

Format ``pingan-audit-export/1`` (one JSON object per line, UTF-8; docs/audit.md):

- ``{"type": "header", "format": "pingan-audit-export/1", "origin": ..., "from_index": a,
  "to_index": b, "prefix": [base64 ...]}`` -- ``prefix`` holds the perfect-subtree hashes
  covering entries [0, a) (RFC 9162 MTH pieces, largest first), empty when a = 0.
- ``{"type": "checkpoint", "size": s, "note": "<signed note>"}`` -- optionally first, the
  newest checkpoint at or below ``a`` (the base), then each checkpoint right after the
  entry that completes it.
- ``{"type": "consistency", "from_size": p, "to_size": s, "proof": [base64 ...]}`` -- the
  RFC 9162 consistency proof between successive checkpoints, just before the second.
- ``{"type": "entry", "index": i, "leaf_hash": base64, "canonical": "<canonical JSON text>"}``.

``b`` must be the size of a signed checkpoint, so every exported entry is
covered by a checkpoint.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

from audit import merkle
from audit.errors import StoreError
from audit.store import AuditLog

FORMAT = "pingan-audit-export/1"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def resolve_range(log: AuditLog, from_index: int, to_index: int) -> tuple[int, int]:
    """Validate an export range; ``to_index`` 0 means the latest checkpoint's size."""
    latest = log.latest_checkpoint()
    if latest is None:
        raise StoreError("the log has no signed checkpoint yet; nothing can be exported verifiably")
    end = to_index or latest.size
    if end > latest.size:
        raise StoreError(f"to_index {end} is beyond the latest checkpoint (size {latest.size})")
    if [c.size for c in log.checkpoints(end, end)] != [end]:
        after = log.checkpoint_at_or_after(end)
        before = [c.size for c in log.checkpoints(0, end)][-1:]
        raise StoreError(
            f"to_index {end} is not the size of a checkpoint; nearest checkpoint sizes: "
            f"{before[0] if before else 'none'} and {after.size if after else 'none'}"
        )
    if from_index >= end:
        raise StoreError(f"from_index {from_index} must be below to_index {end}")
    return from_index, end


def export_lines(log: AuditLog, from_index: int, to_index: int) -> Iterator[bytes]:
    """Yield the export file line by line for entries [from_index, to_index)."""
    start, end = resolve_range(log, from_index, to_index)
    prefix_keys = merkle.perfect_pieces(0, start)
    prefix = log.perfect_hashes(prefix_keys) if prefix_keys else {}
    yield _line(
        {
            "type": "header",
            "format": FORMAT,
            "origin": log.origin,
            "from_index": start,
            "to_index": end,
            "prefix": [_b64(prefix[k]) for k in prefix_keys],
        }
    )
    base = [c for c in log.checkpoints(0, start)][-1:]
    cps = base + log.checkpoints(start + 1, end)
    prev_size = None
    if base:
        yield _line({"type": "checkpoint", "size": base[0].size, "note": base[0].note})
        prev_size = base[0].size
        cps = cps[1:]
    pending = iter(cps)
    nxt = next(pending, None)
    for e in log.entries(start, end):
        yield _line(
            {
                "type": "entry",
                "index": e.index,
                "leaf_hash": _b64(e.leaf_hash),
                "canonical": e.canonical.decode("utf-8"),
            }
        )
        while nxt is not None and nxt.size == e.index + 1:
            if prev_size is not None and prev_size > 0:
                proof = log.consistency_proof(prev_size, nxt.size)
                yield _line(
                    {"type": "consistency", "from_size": prev_size, "to_size": nxt.size, "proof": [_b64(p) for p in proof]}
                )
            yield _line({"type": "checkpoint", "size": nxt.size, "note": nxt.note})
            prev_size = nxt.size
            nxt = next(pending, None)
