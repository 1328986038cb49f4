"""Synthetic department databases for demos, tests and benchmarks.

``pingan synth`` writes one SQLite database per department, each with its own
schema (as separate real systems would have), realistic noise and a ground-truth
file mapping every person record to its true person and household. Everything is
generated deterministically from a seed; nothing is downloaded.
"""

from adapters.synth.errors import SynthError

__all__ = ["SynthError"]
