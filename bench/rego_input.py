"""How regopy's input path costs a worker thread beside a busy event loop.

regopy is a ctypes binding; ctypes releases the GIL around every foreign call, and
``regopy.Input`` makes one call per value of the input, while ``set_input_term`` takes
the whole input as one JSON text. Alone both cost the same; in a thread next to a
thread that keeps the GIL busy (as the hub's event loop does under load) every call
must win the GIL back. This measures one section decision of the default policy both
ways, alone and beside a busy thread, on the same input and the same compiled bundle.
Results: docs/benchmarks.md, "Profile load".

    python bench/rego_input.py [--evaluations 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import regopy

from hub.policy.bundle import PolicyBundle, default_policy_dir
from hub.policy.rego_embedded import _PKG_PATH, EmbeddedRego

GIVEN: dict[str, Any] = {
    "subject": {
        "user_id": "gw-1",
        "department": "grid_office",
        "roles": ["grid_worker"],
        "jurisdictions": ["TH/S03/C07/G05"],
        "role_scopes": [["grid_worker", "TH/S03/C07/G05"]],
    },
    "resource": {
        "jurisdiction": "TH/S03/C07/G05",
        "groups": ["elderly_alone"],
        "department": "health",
        "dataset": "records",
        "fields": [{"name": f"field_{i}", "category": "health", "grade": 2 + i % 3, "kind": "text"} for i in range(12)],
    },
    "action": "read",
    "purpose": "routine_visit",
    "context": {"time": "2026-11-23T10:00:00+00:00", "emergency": False, "justification_provided": False},
}


def _evaluators(engine: EmbeddedRego) -> dict[str, Callable[[], Any]]:
    interp, bundle, entry = engine._interp, engine._compiled, f"{_PKG_PATH}/decision"

    def by_nodes() -> Any:
        interp.set_input(regopy.Input(dict(GIVEN)))
        return str(interp.query_bundle_entrypoint(bundle, entry))

    def by_term() -> Any:
        interp.set_input_term(json.dumps(GIVEN, ensure_ascii=False, separators=(",", ":")))
        return str(interp.query_bundle_entrypoint(bundle, entry))

    return {"regopy.Input (one ctypes call per value)": by_nodes, "set_input_term (one JSON text)": by_term}


def _timed(evaluate: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        evaluate()
        out.append((time.perf_counter() - start) * 1000.0)
    return out


def _beside_busy_thread(evaluate: Callable[[], Any], n: int) -> list[float]:
    stop = threading.Event()

    def busy() -> None:  # pure Python: holds the GIL until the interpreter makes it switch
        while not stop.is_set():
            sum(range(200))

    spinner = threading.Thread(target=busy, daemon=True)
    spinner.start()
    got: list[float] = []
    worker = threading.Thread(target=lambda: got.extend(_timed(evaluate, n)))
    worker.start()
    worker.join()
    stop.set()
    spinner.join()
    return got


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=20, help="evaluations per path and setting (default 20)")
    args = parser.parse_args()
    engine = EmbeddedRego(PolicyBundle.from_directory(default_policy_dir()))
    evaluators = _evaluators(engine)
    outputs = {name: evaluate() for name, evaluate in evaluators.items()}
    if len(set(outputs.values())) != 1:
        raise SystemExit(f"the two input paths disagree: {outputs}")
    print(f"one section decision of the default policy, {args.evaluations} evaluations per cell (ms)")
    print("| input path | alone p50 | beside a busy thread p50 | beside a busy thread max |")
    print("|---|---:|---:|---:|")
    for name, evaluate in evaluators.items():
        alone = _timed(evaluate, args.evaluations)
        busy = _beside_busy_thread(evaluate, args.evaluations)
        print(f"| {name} | {statistics.median(alone):.1f} | {statistics.median(busy):.1f} | {max(busy):.1f} |")
    engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
