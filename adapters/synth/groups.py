"""Who belongs to which sensitive group and assistance programme.

Proportions are plausible planning figures (share of the whole population):
community corrections ~0.22%, released prisoners ~0.2%, severe mental disorder
~0.4%, drug-involved ~0.2%, domestic-violence victims ~0.05%, whistleblowers
~0.01%; minors (~18%) and elderly living alone (~3%) follow from the households.
Hardship aid is given twice (civil affairs and human resources) to ~28% of its
recipients: the duplicate-assistance baseline of REQUIREMENTS.md.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from adapters.synth.population import Household, Person, Population

DUPLICATE_ASSISTANCE_SHARE = 0.28

GROUP_RATES: dict[str, float] = {
    "community_corrections": 0.0022,
    "released_prisoner": 0.0020,
    "severe_mental_disorder": 0.0040,
    "drug_involved": 0.0020,
    "domestic_violence_victim": 0.0005,
    "whistleblower": 0.0001,
}


def _weighted_sample(
    persons: list[Person], k: int, weight: Callable[[Person], float], rng: random.Random
) -> tuple[int, ...]:
    """k persons without replacement, probability proportional to weight (Efraimidis-Spirakis)."""
    keyed = []
    for p in persons:
        w = weight(p)
        if w > 0:
            keyed.append((rng.random() ** (1.0 / w), p.index))
    keyed.sort(reverse=True)
    return tuple(sorted(i for _, i in keyed[:k]))


def assign_groups(pop: Population, rng: random.Random) -> None:
    """Fill ``pop.groups`` (sorted person indexes per group or programme)."""
    persons = pop.persons
    n = len(persons)

    def count(rate: float) -> int:
        return max(1, round(n * rate))

    groups: dict[str, tuple[int, ...]] = {}
    groups["community_corrections"] = _weighted_sample(
        persons, count(GROUP_RATES["community_corrections"]),
        lambda p: (4.0 if p.male else 1.0) if 18 <= p.age <= 70 else 0.0, rng)
    groups["released_prisoner"] = _weighted_sample(
        persons, count(GROUP_RATES["released_prisoner"]),
        lambda p: (5.0 if p.male else 1.0) if 22 <= p.age <= 70 else 0.0, rng)
    groups["severe_mental_disorder"] = _weighted_sample(
        persons, count(GROUP_RATES["severe_mental_disorder"]), lambda p: 1.0 if p.age >= 16 else 0.0, rng)
    groups["drug_involved"] = _weighted_sample(
        persons, count(GROUP_RATES["drug_involved"]),
        lambda p: (3.0 if p.male else 1.0) if 18 <= p.age <= 60 else 0.0, rng)
    groups["domestic_violence_victim"] = _weighted_sample(
        persons, count(GROUP_RATES["domestic_violence_victim"]),
        lambda p: (0.0 if p.male else 1.0) if 20 <= p.age <= 70 else (0.2 if 8 <= p.age < 18 else 0.0), rng)
    groups["whistleblower"] = _weighted_sample(
        persons, count(GROUP_RATES["whistleblower"]), lambda p: 1.0 if p.age >= 20 else 0.0, rng)
    groups["minor"] = tuple(p.index for p in persons if p.age < 18)
    groups["elderly_alone"] = tuple(
        i for h in pop.households if h.kind == "elderly_alone" for i in h.members if persons[i].age >= 65)

    # Subsistence allowance (低保): ~2.5% of households, more likely when elderly alone or unemployed.
    def hh_weight(h: Household) -> float:
        heads = [persons[i] for i in h.members]
        w = 1.0
        if h.kind == "elderly_alone":
            w += 4.0
        if any(p.occupation == "unemployed" for p in heads):
            w += 3.0
        return 0.0 if h.migrant else w

    keyed = sorted(((rng.random() ** (1.0 / w), j) for j, h in enumerate(pop.households)
                    if (w := hh_weight(h)) > 0), reverse=True)
    dibao_households = sorted(j for _, j in keyed[: max(1, round(len(pop.households) * 0.025))])
    groups["dibao_household"] = tuple(dibao_households)

    hardship = list(_weighted_sample(
        persons, count(0.008),
        lambda p: (3.0 if p.occupation in ("unemployed", "none") else 1.0) if p.age >= 18 else 0.0, rng))
    rng.shuffle(hardship)
    n_both = round(len(hardship) * DUPLICATE_ASSISTANCE_SHARE)
    rest = hardship[n_both:]
    groups["hardship_both"] = tuple(sorted(hardship[:n_both]))
    groups["hardship_civil_only"] = tuple(sorted(rest[: len(rest) // 2]))
    groups["hardship_hr_only"] = tuple(sorted(rest[len(rest) // 2 :]))
    groups["unemployment_registered"] = tuple(
        p.index for p in persons if p.occupation == "unemployed" and rng.random() < 0.7)
    groups["training"] = _weighted_sample(
        persons, count(0.025), lambda p: (3.0 if p.occupation == "unemployed" else 1.0) if 18 <= p.age < 60 else 0.0,
        rng)
    groups["insured_employed"] = tuple(
        p.index for p in persons if p.occupation == "employed" and rng.random() < 0.85)
    pop.groups = groups
