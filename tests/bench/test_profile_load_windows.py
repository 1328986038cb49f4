"""bench/profile_load.py: a sustained run's p99 per 30-s window (``_windows``).

The bench scripts are not a package; the script is loaded from its file with its own
folder on the path, as ``python bench/profile_load.py`` runs it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(_BENCH))
_spec = importlib.util.spec_from_file_location("profile_load", _BENCH / "profile_load.py")
assert _spec is not None and _spec.loader is not None
pl = importlib.util.module_from_spec(_spec)
sys.modules["profile_load"] = pl
_spec.loader.exec_module(pl)


def _samples(window: int, latencies: list[float], code: str = "OK") -> list[object]:
    width = pl.WINDOW_SECONDS
    step = width / len(latencies)
    return [
        pl.Sample(f"r{window}-{i}", "person_id", window * width + i * step, ms, code)
        for i, ms in enumerate(latencies)
    ]


def test_a_short_run_has_no_window_report() -> None:
    assert pl._windows(_samples(0, [10.0] * 100), 30.0) == ""
    assert pl._windows(_samples(0, [10.0] * 100), 59.0) == ""


def test_each_window_has_its_own_p99_and_misses_are_named() -> None:
    calm = [10.0] * 99 + [20.0]
    stalled = [10.0] * 97 + [400.0] * 3  # 3 % of the window over the target: its p99 misses
    samples = _samples(0, calm) + _samples(1, stalled) + _samples(2, calm)
    report = pl._windows(samples, 90.0)
    assert report.startswith("3 windows of 30 s, p99 per window min / median / max 20.0 / 20.0 / 400.0 ms")
    assert "1 at or over 150 ms (30-60 s: 400.0 ms)" in report


def test_an_error_counts_as_a_miss_and_partial_windows_are_left_out() -> None:
    second = _samples(1, [10.0] * 100)
    second[-2:] = [pl.Sample(f"e{i}", "id_number", 59.0, 3.0, "UNAVAILABLE") for i in range(2)]
    samples = _samples(0, [10.0] * 100) + second  # 2 % of the second window failed
    samples += [pl.Sample("late", "person_id", 61.0, 999.0, "OK")]  # beyond the last whole window
    report = pl._windows(samples, 61.0)
    assert report.startswith("2 windows of 30 s")
    assert "1 at or over 150 ms (30-60 s: inf ms)" in report
