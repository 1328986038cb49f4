"""The error type of the synthetic-data generator."""

from __future__ import annotations


class SynthError(Exception):
    """Generation cannot proceed (bad parameters, unwritable output directory)."""
