"""How long ``pingan synth`` takes, and how much memory (issue 2: 100,000 persons < 1 minute).

    python bench/synth_speed.py [--persons 100000] [--seed 7]

Runs the generator in this process into a temporary directory and prints wall time,
CPU time, peak resident memory, rows written and database size.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from adapters.synth.generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu = time.perf_counter(), time.process_time()
        result = generate(args.persons, args.seed, Path(tmp))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rows = sum(sum(t.values()) for t in result.tables.values())
        size = sum(p.stat().st_size for p in Path(tmp).glob("*.db"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"persons={args.persons} seed={args.seed}")
    print(f"wall {wall:.1f} s, cpu {cpu:.1f} s, peak RSS {peak:.0f} MiB")
    print(f"{rows} rows in {len(result.tables)} department databases, {size / 2**20:.0f} MiB; "
          f"{result.ground_truth_records} ground-truth records")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
