"""The true population: persons, households, registered (hukou) vs actual residence.

Departments copy (noisy) views of these persons; the ground truth keeps the true
``person_id`` and ``household_id``. Proportions follow the planning documents
(REQUIREMENTS.md): migrants are 18-45% of adults depending on the district and
only about 38.7% of migrants are registered where they live.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from adapters.synth import idnumber, names
from adapters.synth.places import (
    DISTRICTS,
    ELSEWHERE,
    District,
    Geography,
    Grid,
    elsewhere_address,
    street_address,
)

# "Today" for the synthetic world: ages, overdue visits and update times derive from it.
REFERENCE_DATE = dt.date(2026, 6, 30)
MIGRANT_REGISTERED_SHARE = 0.387

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "166", "176", "177", "180", "181", "182", "185", "186", "187",
    "188", "189", "191", "198", "199",
)
EMPLOYERS = (
    "广州市天河城百货有限公司", "广州地铁集团有限公司", "广州白云国际机场股份有限公司",
    "广州市越秀区环卫所", "广州美食餐饮管理有限公司", "广州顺达物流有限公司", "广州市番禺区建筑工程公司",
    "广州华南电子厂", "广州市海珠区第一人民医院", "广州快递服务有限公司", "广州恒通保安服务公司",
    "广州市荔湾区服装加工厂", "广州云景物业管理有限公司", "个体工商户", "广州新港网络科技有限公司",
)
ETHNICITIES = (("汉族", 0.955), ("壮族", 0.015), ("土家族", 0.008), ("苗族", 0.007), ("瑶族", 0.005),
               ("回族", 0.005), ("满族", 0.005))

LOCAL_KINDS = (("single", 0.16), ("couple", 0.16), ("nuclear", 0.30), ("three_gen", 0.16),
               ("elderly_couple", 0.11), ("elderly_alone", 0.11))
MIGRANT_KINDS = (("single", 0.42), ("couple", 0.20), ("nuclear", 0.34), ("three_gen", 0.04))


@dataclass(frozen=True, slots=True)
class Person:
    """One true resident. Department records are noisy copies of these values."""

    index: int
    person_id: str
    household_id: str
    household_number: str
    relation: str  # head | spouse | child | parent
    name: str
    male: bool
    birth: dt.date
    id_number: str
    ethnicity: str
    migrant: bool
    residence_registered: bool
    hukou_address: str
    grid: Grid
    residence_address: str
    previous_address: str | None
    phone: str | None
    old_phone: str | None
    landline: str | None
    occupation: str  # employed | unemployed | retired | student | child | none
    employer: str | None
    education: str
    marital: str

    @property
    def age(self) -> int:
        b = self.birth
        r = REFERENCE_DATE
        return r.year - b.year - ((r.month, r.day) < (b.month, b.day))


@dataclass(frozen=True, slots=True)
class Household:
    """A registered household and where it actually lives."""

    household_id: str
    household_number: str
    kind: str
    migrant: bool
    grid: Grid
    members: tuple[int, ...]


@dataclass(slots=True)
class Population:
    """All persons and households, plus sensitive-group membership (person indexes)."""

    persons: list[Person]
    households: list[Household]
    staff: tuple[str, ...]
    groups: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def members(self, group: str) -> list[Person]:
        return [self.persons[i] for i in self.groups.get(group, ())]

    def household_of(self, person: Person) -> Household:
        # Household ids are numbered in creation order: H0000001 is households[0].
        return self.households[int(person.household_id[1:]) - 1]


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([k for k, _ in weighted], weights=[w for _, w in weighted])[0]


def _birth(rng: random.Random, age: int) -> dt.date:
    """A birth date giving exactly ``age`` on REFERENCE_DATE."""
    start = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age - 1) + dt.timedelta(days=1)
    return start + dt.timedelta(days=rng.randrange(365))


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _ages(kind: str, rng: random.Random) -> list[tuple[str, int, bool | None]]:
    """(relation, age, male-or-None-for-random) of each member of a household kind."""
    if kind == "single":
        return [("head", rng.randint(19, 60), None)]
    if kind == "elderly_alone":
        return [("head", rng.randint(65, 93), None)]
    if kind == "elderly_couple":
        a = rng.randint(62, 88)
        return [("head", a, True), ("spouse", max(60, a + rng.randint(-5, 2)), False)]
    if kind == "couple":
        a = rng.randint(22, 60)
        return [("head", a, True), ("spouse", max(20, a + rng.randint(-5, 2)), False)]
    a = rng.randint(26, 55)
    out: list[tuple[str, int, bool | None]] = [("head", a, True), ("spouse", max(22, a + rng.randint(-5, 2)), False)]
    n_children = rng.choices((1, 2, 3), weights=(0.65, 0.31, 0.04))[0]
    for _ in range(n_children):
        out.append(("child", rng.randint(max(0, a - 40), min(36, a - 21)), None))
    if kind == "three_gen":
        for male in rng.sample((True, False), rng.randint(1, 2)):
            out.append(("parent", min(95, a + rng.randint(24, 32)), male))
    return out


def _occupation(age: int, rng: random.Random) -> tuple[str, str | None]:
    if age < 6:
        return "child", None
    if age < 18:
        return "student", None
    if age < 23 and rng.random() < 0.45:
        return "student", None
    if age >= 60:
        return "retired", None
    r = rng.random()
    if r < 0.80:
        return "employed", rng.choice(EMPLOYERS)
    if r < 0.86:
        return "unemployed", None
    return "none", None


def _education(age: int, rng: random.Random) -> str:
    if age < 6:
        return "学龄前"
    if age < 12:
        return "小学在读"
    if age < 18:
        return "中学在读"
    return rng.choices(("小学", "初中", "高中", "中专", "大专", "本科", "研究生"),
                       weights=(0.08, 0.30, 0.18, 0.10, 0.14, 0.17, 0.03))[0]


def _marital(relation: str, age: int, kind: str, n_parents: int, rng: random.Random) -> str:
    if relation == "child" or age < 22:
        return "未婚"
    if relation in ("head", "spouse") and kind in ("couple", "nuclear", "three_gen", "elderly_couple"):
        return "已婚"
    if relation == "parent":
        return "已婚" if n_parents == 2 else "丧偶"
    weights = (0.6, 0.25, 0.15) if age < 60 else (0.05, 0.15, 0.8)
    return rng.choices(("未婚", "离婚", "丧偶"), weights=weights)[0]


def build_population(n_persons: int, geography: Geography, rng: random.Random) -> Population:
    """Exactly ``n_persons`` persons in households across the districts."""
    persons: list[Person] = []
    households: list[Household] = []
    used_ids: set[str] = set()
    weights = [d.weight for d in DISTRICTS]
    targets = [int(n_persons * w / sum(weights)) for w in weights]
    targets[0] += n_persons - sum(targets)
    for district, target in zip(DISTRICTS, targets):
        grids = geography.grids_by_district[district.code]
        produced = 0
        while produced < target:
            members = _household(district, grids, rng, len(persons), len(households), used_ids,
                                 limit=target - produced)
            persons.extend(members[1])
            households.append(members[0])
            produced += len(members[1])
    staff = tuple(names.full_name(rng, rng.random() < 0.5) for _ in range(max(20, n_persons // 400)))
    return Population(persons, households, staff)


def _household(
    district: District,
    grids: tuple[Grid, ...],
    rng: random.Random,
    first_index: int,
    hh_index: int,
    used_ids: set[str],
    limit: int,
) -> tuple[Household, list[Person]]:
    migrant = rng.random() < district.migrant_share
    kind = _pick(rng, MIGRANT_KINDS if migrant else LOCAL_KINDS)
    if migrant and kind == "single" and rng.random() < 0.1:
        kind = "elderly_alone" if rng.random() < 0.3 else "single"
    grid = rng.choice(grids)
    address = street_address(grid, rng)
    previous = street_address(rng.choice(grids), rng) if rng.random() < 0.15 else None
    if migrant:
        region, region_text = rng.choice(ELSEWHERE)
        hukou = elsewhere_address(region_text, rng)
    else:
        region = district.region
        hukou = address if rng.random() < 0.85 else street_address(rng.choice(grids), rng)
    household_id = f"H{hh_index + 1:07d}"
    # 户号: province of registration + a serial; never shaped like an ID number or a mobile.
    household_number = f"{region[:2]}{hh_index + 1:08d}"
    landline = f"020-{rng.choice('3456789')}{rng.randrange(10**7):07d}" if rng.random() < 0.12 else None
    family = names.surname(rng)
    spec = _ages(kind, rng)[:limit]
    people: list[Person] = []
    for relation, age, male in spec:
        sex = rng.random() < 0.5 if male is None else male
        # The head, the children and the head's father carry the family surname.
        shares_surname = len(spec) > 1 and (relation in ("head", "child") or (relation == "parent" and sex))
        name = names.full_name(rng, sex, family if shares_surname else None)
        birth = _birth(rng, age)
        id_region = region if (migrant or rng.random() < 0.8) else rng.choice(ELSEWHERE)[0]
        while True:
            id_number = idnumber.make(id_region, birth, rng.randrange(500), sex)
            if id_number not in used_ids:
                used_ids.add(id_number)
                break
        phone = mobile(rng) if age >= 14 and not (age >= 78 and rng.random() < 0.4) else None
        old_phone = mobile(rng) if phone and rng.random() < 0.2 else None
        occupation, employer = _occupation(age, rng)
        marital = _marital(relation, age, kind, sum(1 for r, _, _ in spec if r == "parent"), rng)
        index = first_index + len(people)
        people.append(Person(
            index=index,
            person_id=f"P{index + 1:07d}",
            household_id=household_id,
            household_number=household_number,
            relation=relation,
            name=name,
            male=sex,
            birth=birth,
            id_number=id_number,
            ethnicity=_pick(rng, ETHNICITIES),
            migrant=migrant,
            residence_registered=migrant and rng.random() < MIGRANT_REGISTERED_SHARE,
            hukou_address=hukou,
            grid=grid,
            residence_address=address,
            previous_address=previous,
            phone=phone,
            old_phone=old_phone,
            landline=landline,
            occupation=occupation,
            employer=employer,
            education=_education(age, rng),
            marital=marital,
        ))
    household = Household(household_id, household_number, kind, migrant, grid,
                          tuple(p.index for p in people))
    return household, people
