"""Short garbage-collector pauses for servers that hold a large, long-lived heap.

CPython's cyclic collector walks every tracked object of the oldest generation on
a full collection. After start-up and after each linkage run the hub holds
hundreds of thousands of long-lived objects (identity index, policy, clients),
and a full collection then stops every thread for 100-300 ms: the p99 of the
profile load benchmark was set by those pauses (docs/benchmarks.md, "Profile
load"). An adapter's heap is smaller (gRPC, SQLAlchemy, its configuration), but a
full collection there still took 99 ms under that load, and holds up the profile
waiting for that department. :func:`settle` collects once and moves the surviving
objects to the permanent generation (``gc.freeze``,
https://docs.python.org/3/library/gc.html#gc.freeze), so later full collections only
walk what requests allocate. :func:`release` undoes it when a server stops (several
servers share a test process).
"""

from __future__ import annotations

import gc
import time


def settle() -> float:
    """Collect, then freeze what survived; returns the seconds it took."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    return time.perf_counter() - started


def release() -> None:
    """Give frozen objects back to the collector (they are collected if now garbage)."""
    gc.unfreeze()
