"""How many records share an address, and what an address agreement is worth given that.

Term-frequency adjustment of the address agreement (Winkler's frequency-based
matching, Splink's ``term_frequency_adjustments``), on the hub's own data and
without a new encoding: every record with an actual residence carries the keyed
``residence`` token (HMAC of the normalised address, docs/linkage.md), so the
hub can count the *holders* of each token without knowing any address.

* A pair whose address is close or identical is put in a **frequency class** by
  the holder count of the more common of its two tokens (1-2, 3-4, 5-8, more
  than 8 records): an address only the two records hold (FEBRL: no households)
  is a different kind of evidence from one a household of four shares in three
  departments.
* The chance that two *different* persons agree exactly on an address of a
  class (u) is counted, not sampled: the pairs sharing a token are known
  exactly (sum of c(c-1)/2 over the tokens of that class); the expected
  matches among them (EM's posterior over the candidate pairs) are removed; the
  rest, over all pairs with an address on both sides, is u. Random pairs cannot
  estimate it below about 1/their number, and the few random pairs that do
  share an address are mostly true matches: without the count, "same address"
  weighed at most about log(records) however rare addresses are.
* u never falls as the class rises (a commoner address is never rarer evidence),
  so a class with no tokens in the data borrows the u of the class below.
* Only for the first class (1-2 holders) may the counted u go below the u of
  random pairs (``fellegi_sunter.frequency_u``): for commoner addresses it is
  lower too, but relatives share a surname *and* an address, and the model's
  conditional independence then merges them.
* A close (not identical) address of the same class gets that u times the
  close/identical ratio random pairs show (Splink applies its term-frequency
  factor to fuzzy levels the same way).
* A similar address with alike numbers (the "alike" level; no shared token to
  count) is classed by the more common of the two tokens as well, so a mistyped
  copy of a household's address falls in the household's class; for the first
  class its u is the frequency in a large random sample minus the matches EM
  expects there over all pairs (:meth:`AddressFrequency.u_alike`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hub.identity.uniques import unique_counts

# Upper bounds (holder counts) of the frequency classes; beyond the last bound is one more class.
CLASS_BOUNDS = (2, 4, 8)
CLASSES = len(CLASS_BOUNDS) + 1
# Pseudo-count of non-matching pairs per class (add-one): u never reaches zero.
PSEUDO_PAIRS = 1.0


@dataclass(frozen=True, slots=True)
class AddressFrequency:
    """Exact counts behind the frequency-based u of identical addresses."""

    shared_pairs: tuple[float, ...]  # per class: record pairs holding one token (c(c-1)/2 summed)
    present_pairs: float  # record pairs with an address on both sides
    # Address levels of a large sample of random pairs with an address on both sides (counts per
    # level, and the sample's size): the alike level's u, EM's expected matches removed.
    sampled_levels: tuple[float, ...] = ()
    sampled_pairs: float = 0.0

    def u_alike(self, level: int, expected_matches: float) -> float | None:
        """u of one level from the random sample, the matches EM expects there over all pairs removed.

        Random pairs are almost all non-matches, but not at a level only matches reach
        often: on FEBRL4 most random pairs at a similar address with alike numbers are the
        same person (the sample holds ~1 in 25 of all pairs, hence ~1 in 25 of the matches).
        Their share over all pairs (``expected_matches / present_pairs``) is taken out of the
        sample's frequency; one pseudo-pair keeps u above zero. None without a sample.
        """
        if self.sampled_pairs <= 0 or level >= len(self.sampled_levels):
            return None
        frequency = self.sampled_levels[level] / self.sampled_pairs
        matches = expected_matches / max(self.present_pairs, 1.0)
        return max(frequency - matches, 0.0) + PSEUDO_PAIRS / self.sampled_pairs

    def u_identical(self, expected_matches: np.ndarray, matches_present: float) -> np.ndarray:
        """u per class of an identical address, the expected matches among the sharing pairs removed.

        Non-decreasing over the classes: an address more records hold is never rarer evidence
        than a less common one, and a class no token of the data falls in (nothing to count)
        takes the u of the class below rather than the pseudo-count alone.
        """
        shared = np.asarray(self.shared_pairs, np.float64)
        non_match = np.maximum(shared - expected_matches, 0.0) + PSEUDO_PAIRS
        return np.maximum.accumulate(non_match / max(self.present_pairs - matches_present, 1.0))


def holders(tokens: np.ndarray) -> np.ndarray:
    """Per record, how many records carry its token (itself included); 0 without a token."""
    out = np.zeros(len(tokens), np.int32)
    has = tokens != 0
    if not has.any():
        return out
    values, counts = unique_counts(tokens[has])
    out[has] = counts[np.searchsorted(values, tokens[has])]
    return out


def share_class(holders_a: np.ndarray, holders_b: np.ndarray) -> np.ndarray:
    """Frequency class (0..CLASSES-1) of pairs: by the holder count of the more common token."""
    return np.searchsorted(np.asarray(CLASS_BOUNDS, np.int32), np.maximum(holders_a, holders_b), side="left").astype(
        np.int8
    )


def address_frequency(tokens: np.ndarray, present: np.ndarray) -> AddressFrequency:
    """Pairs sharing a residence token per class, and pairs with an address on both sides."""
    has = tokens != 0
    shared = np.zeros(CLASSES, np.float64)
    if has.any():
        _values, counts = unique_counts(tokens[has])
        np.add.at(shared, share_class(counts, counts), counts * (counts - 1) / 2)
    n = float(present.sum())
    return AddressFrequency(tuple(float(s) for s in shared), n * (n - 1) / 2)
