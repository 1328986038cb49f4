"""What the machine was doing during a benchmark window: disk and CPU stalls from the kernel.

Why: on a shared 2-core VM a run's tail can come from the machine, not the code. When
the virtual disk stalls, every durable commit waits at once (the hub's audit log and
decision log, each adapter's access log), so every request in flight is late together.
Linux pressure stall information (PSI, https://docs.kernel.org/accounting/psi.html)
says how long, per interval, *all* non-idle tasks were stalled on I/O ("full") and how
long *some* task waited for a CPU ("some"); /proc/diskstats says how much was written.
Sampled every 100 ms on a thread of the bench's own process, with ``time.monotonic``
timestamps, which every process on the machine shares, so the callers' samples can be
matched against the stalls.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PSI = Path("/proc/pressure")
DISKSTATS = Path("/proc/diskstats")
SYS_BLOCK = Path("/sys/block")


@dataclass(frozen=True)
class Interval:
    """One sampling interval: its end (monotonic seconds), length, and the stall and disk counters' growth."""

    end: float
    seconds: float
    io_full_ms: float  # every non-idle task stalled on I/O at once
    io_some_ms: float  # at least one task stalled on I/O
    cpu_some_ms: float  # at least one runnable task waiting for a CPU
    writes: int  # write requests completed by the machine's disks
    written_bytes: int


@dataclass(frozen=True)
class Stall:
    """Adjacent intervals with a disk stall: when (seconds into the window) and how long every task waited."""

    start: float
    end: float
    full_ms: float


def _psi_totals(resource: str) -> tuple[float, float]:
    """(some, full) total stall microseconds of ``resource`` since boot; full is 0 for cpu on older kernels."""
    some = full = 0.0
    for line in (PSI / resource).read_text().splitlines():
        kind, *fields = line.split()
        total = float(dict(f.split("=", 1) for f in fields)["total"])
        if kind == "some":
            some = total
        elif kind == "full":
            full = total
    return some, full


def _whole_disks() -> set[str]:
    """Block devices that are disks, not partitions or RAM/loop devices (no double counting)."""
    if not SYS_BLOCK.is_dir():
        return set()
    return {p.name for p in SYS_BLOCK.iterdir() if not p.name.startswith(("loop", "ram", "zram", "dm-", "md"))}


def _disk_writes(disks: set[str]) -> tuple[int, int]:
    """(write requests completed, bytes written) over ``disks`` since boot (Documentation/admin-guide/iostats.rst)."""
    writes = sectors = 0
    for line in DISKSTATS.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 10 and fields[2] in disks:
            writes += int(fields[7])
            sectors += int(fields[9])
    return writes, sectors * 512


class MachinePressure:
    """Samples PSI and disk writes every ``period`` seconds on a daemon thread until :meth:`stop`."""

    def __init__(self, period: float = 0.1) -> None:
        self.period = period
        self.available = (PSI / "io").exists() and (PSI / "cpu").exists()
        self.intervals: list[Interval] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._disks = _whole_disks() if DISKSTATS.exists() else set()

    def _read(self) -> tuple[float, float, float, float, int, int]:
        io_some, io_full = _psi_totals("io")
        cpu_some, _ = _psi_totals("cpu")
        writes, written = _disk_writes(self._disks) if self._disks else (0, 0)
        return time.monotonic(), io_full, io_some, cpu_some, writes, written

    def _run(self) -> None:
        before = self._read()
        while not self._stop.wait(self.period):
            now = self._read()
            self.intervals.append(
                Interval(
                    end=now[0],
                    seconds=now[0] - before[0],
                    io_full_ms=(now[1] - before[1]) / 1000.0,
                    io_some_ms=(now[2] - before[2]) / 1000.0,
                    cpu_some_ms=(now[3] - before[3]) / 1000.0,
                    writes=now[4] - before[4],
                    written_bytes=now[5] - before[5],
                )
            )
            before = now

    def start(self) -> MachinePressure:
        if self.available:
            self._thread = threading.Thread(target=self._run, name="machine-pressure", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2 * self.period + 1.0)

    def window(self, opened: float, seconds: float) -> list[Interval]:
        """The intervals that ended inside ``[opened, opened + seconds]`` (monotonic seconds)."""
        return [i for i in self.intervals if opened < i.end <= opened + seconds]


def stalls(intervals: Sequence[Interval], opened: float, threshold_ms: float = 20.0) -> list[Stall]:
    """Disk stalls: runs of adjacent intervals in which every task waited on I/O for at
    least ``threshold_ms`` (PSI "full"), in seconds since ``opened``."""
    found: list[Stall] = []
    run: list[Interval] = []
    for i in [*intervals, None]:
        if i is not None and i.io_full_ms >= threshold_ms:
            run.append(i)
            continue
        if run:
            found.append(Stall(run[0].end - run[0].seconds - opened, run[-1].end - opened, sum(r.io_full_ms for r in run)))
            run = []
    return found


def overlapping(requests: Iterable[tuple[float, float]], found: Sequence[Stall]) -> int:
    """How many requests, each (start, end) in seconds since the window opened, were in flight during a stall."""
    return sum(1 for start, end in requests if any(start < s.end and s.start < end for s in found))


def loop_seconds(iterations: int = 10_000_000) -> float:
    """Seconds for an empty ``for`` loop of ``iterations`` on one core: this VM's speed at the moment.

    The same VM has run this in 0.25-0.30 s and in 0.45-0.70 s within minutes; the
    engineers timed it by hand before each run. The bench prints it before and after the
    measured window. It is an ALU-only gauge: runs with a 0.22-0.34 s loop have still
    cost the hub 10-11 ms of CPU per profile instead of 8.4-9.0 (docs/benchmarks.md,
    2026-11-23 22:25), so the CPU per profile is the better sign of the machine's state.
    """
    started = time.perf_counter()
    for _ in range(iterations):
        pass
    return time.perf_counter() - started


def chase_seconds(size: int = 1_000_000, reads: int = 1_000_000) -> float:
    """Seconds for ``reads`` dependent random reads through a shuffled ``size``-element list.

    The memory-bound companion of :func:`loop_seconds`: each read waits for the last
    (no prefetching helps), over about 40 MB of list and int objects, so caches, TLB and
    page walks decide it. Building the list (about a second) is not timed.
    """
    import random

    order = list(range(size))
    random.Random(7).shuffle(order)
    started = time.perf_counter()
    i = 0
    for _ in range(reads):
        i = order[i]
    return time.perf_counter() - started


def summary(intervals: Sequence[Interval], opened: float, slow: Sequence[tuple[float, float]], slow_ms: float) -> str:
    """One paragraph for the bench's report: disk writes, CPU and disk stalls, and how many of
    the requests slower than ``slow_ms`` (each (start, end)) were in flight during a disk stall."""
    if not intervals:
        return "not sampled (no /proc/pressure on this kernel)"
    seconds = sum(i.seconds for i in intervals)
    found = stalls(intervals, opened)
    writes = sum(i.writes for i in intervals)
    written = sum(i.written_bytes for i in intervals)
    text = (
        f"disks wrote {writes / seconds:,.0f} requests/s, {written / seconds / 1e6:.1f} MB/s; "
        f"some task waited for a CPU {sum(i.cpu_some_ms for i in intervals) / seconds / 10:.0f}% of the time; "
        f"every task stalled on the disk {sum(i.io_full_ms for i in intervals):,.0f} ms in all"
    )
    if found:
        worst = sorted(found, key=lambda s: -s.full_ms)[:8]
        text += f", in {len(found)} stall(s) of 20 ms or more per 100 ms (the longest, at seconds into the window: " + ", ".join(
            f"{s.start:.1f}-{s.end:.1f} s {s.full_ms:.0f} ms" for s in sorted(worst, key=lambda s: s.start)
        ) + ")"
    text += (
        f"; of the {len(slow)} requests slower than {slow_ms:g} ms, {overlapping(slow, found)} were in flight during a disk stall"
    )
    if slow:  # when they were sent: a stall's queue drains after it ends, so compare these seconds too
        by_second = Counter(int(start) for start, _ in slow)
        text += " (sent in second: count " + ", ".join(f"{sec}: {n}" for sec, n in sorted(by_second.items())) + ")"
    return text
