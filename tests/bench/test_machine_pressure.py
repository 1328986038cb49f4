"""bench/machine_pressure.py: disk stalls found from PSI intervals and matched to requests.

The bench scripts are not a package; this module is loaded from its file, as
``python bench/profile_load.py`` loads it.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "bench" / "machine_pressure.py"
_spec = importlib.util.spec_from_file_location("machine_pressure", _PATH)
assert _spec is not None and _spec.loader is not None
mp = importlib.util.module_from_spec(_spec)
sys.modules["machine_pressure"] = mp
_spec.loader.exec_module(mp)


def _interval(end: float, io_full_ms: float, *, cpu_ms: float = 0.0) -> object:
    return mp.Interval(end, 0.1, io_full_ms, io_full_ms, cpu_ms, 10, 40960)


def test_adjacent_stalled_intervals_are_one_stall_in_window_seconds() -> None:
    opened = 1000.0
    intervals = [
        _interval(1000.1, 0.0),
        _interval(1000.2, 95.0),
        _interval(1000.3, 98.0),
        _interval(1000.4, 5.0),  # under the threshold: ends the stall
        _interval(1000.5, 40.0),
    ]
    found = mp.stalls(intervals, opened)
    assert [(round(s.start, 3), round(s.end, 3), s.full_ms) for s in found] == [
        (0.1, 0.3, 193.0),
        (0.4, 0.5, 40.0),
    ]


def test_only_requests_in_flight_during_a_stall_are_counted() -> None:
    found = [mp.Stall(2.0, 2.3, 280.0)]
    requests = [
        (1.0, 1.5),  # over before the stall
        (1.9, 2.1),  # in flight when it began
        (2.1, 2.2),  # inside it
        (2.25, 2.6),  # still in flight when it ended
        (2.3, 2.5),  # sent as it ended
    ]
    assert mp.overlapping(requests, found) == 3
    assert mp.overlapping(requests, []) == 0


def test_summary_names_the_stall_and_the_requests_it_explains() -> None:
    intervals = [_interval(10.0 + i / 10, 0.0, cpu_ms=50.0) for i in range(1, 10)] + [_interval(11.0, 90.0)]
    text = mp.summary(intervals, 10.0, [(0.95, 1.2), (0.1, 0.3)], 150.0)
    assert "wrote 100 requests/s, 0.4 MB/s" in text
    assert "waited for a CPU 45% of the time" in text
    assert "1 stall(s)" in text and "0.9-1.0 s 90 ms" in text
    assert "of the 2 requests slower than 150 ms, 1 were in flight during a disk stall" in text
    assert text.endswith("(sent in second: count 0: 2)")
    assert mp.summary([], 10.0, [], 150.0).startswith("not sampled")


@pytest.mark.skipif(not mp.MachinePressure().available, reason="no /proc/pressure on this kernel")
def test_sampling_this_machine_yields_intervals_with_monotonic_ends() -> None:
    pressure = mp.MachinePressure(period=0.02).start()
    opened = time.monotonic()
    time.sleep(0.2)
    pressure.stop()
    window = pressure.window(opened, 10.0)
    assert window, "no interval sampled in 0.2 s at a 20 ms period"
    assert all(b.end > a.end for a, b in zip(window, window[1:], strict=False))
    assert all(i.io_full_ms >= 0 and i.cpu_some_ms >= 0 and i.writes >= 0 for i in window)
