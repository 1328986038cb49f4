"""A small deterministic noisy population for identity tests (no network, no files).

Persons live in households (shared household number and residence); each
appears in one to three departments with the noise departments really produce:
traditional characters, spaces and middle dots in names, other date formats,
15-digit legacy IDs, mistyped ID digits (suspect IDs), missing IDs, +86 phones,
province/city prefixes on addresses, and a registered address that differs from
the actual residence for migrants.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from adapters.linkage.encoder import LinkageEncoder
from adapters.linkage.fields import IdentityFields
from adapters.linkage.idnumber import check_character
from pingan.v1 import linkage_pb2

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕国梅建"
TRADITIONAL = {"张": "張", "刘": "劉", "陈": "陳", "杨": "楊", "黄": "黃", "赵": "趙", "吴": "吳", "伟": "偉",
               "丽": "麗", "军": "軍", "艳": "艷", "杰": "傑", "涛": "濤", "兰": "蘭", "华": "華", "红": "紅",
               "国": "國", "梅": "梅", "玲": "玲", "郑": "鄭", "罗": "羅", "谢": "謝"}
AREAS = ("330106", "330105", "110105", "440305", "510107")
STREETS = ("文三路", "天目山路", "教工路", "学院路", "古墩路", "莫干山路", "延安路", "体育场路")
DEPARTMENTS = ("public_security", "civil_affairs", "health", "justice")
TEST_SECRET = b"identity-tests-linkage-secret-0123456789"


@dataclass(frozen=True, slots=True)
class Person:
    key: int
    household: int
    name: str
    id_number: str
    birth: dt.date
    sex: str
    phone: str
    residence: str
    registered: str
    household_number: str


@dataclass(frozen=True, slots=True)
class SourceRecord:
    department: str
    dataset: str
    local_record_id: str
    fields: IdentityFields
    person: int
    household: int


def _id_number(rng: random.Random, birth: dt.date, sex: str) -> str:
    seq = rng.randrange(0, 100) * 10 + (rng.choice((1, 3, 5, 7, 9)) if sex == "M" else rng.choice((0, 2, 4, 6, 8)))
    first17 = f"{rng.choice(AREAS)}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_character(first17).upper()


def make_persons(n: int, seed: int = 1) -> list[Person]:
    rng = random.Random(seed)
    persons: list[Person] = []
    household = 0
    used_ids: set[str] = set()
    while len(persons) < n:
        size = rng.choice((1, 1, 2, 2, 3, 3, 4))
        street, number = rng.choice(STREETS), rng.randrange(1, 400)
        residence = f"杭州市西湖区{street}{number}号{rng.randrange(1, 30)}幢{rng.randrange(101, 1800)}室"
        registered_home = residence if rng.random() < 0.7 else f"河南省郑州市金水区{rng.choice(STREETS)}{rng.randrange(1, 99)}号"
        hh_number = f"{rng.randrange(10**8, 10**9)}"
        surname = rng.choice(SURNAMES)
        for _ in range(size):
            sex = rng.choice("MF")
            birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 75))
            while True:
                idn = _id_number(rng, birth, sex)
                if idn not in used_ids:
                    used_ids.add(idn)
                    break
            name = surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
            persons.append(
                Person(
                    key=len(persons),
                    household=household,
                    name=name,
                    id_number=idn,
                    birth=birth,
                    sex=sex,
                    phone=f"1{rng.choice('3456789')}{rng.randrange(10**8, 10**9)}",
                    residence=residence,
                    registered=registered_home,
                    household_number=hh_number,
                )
            )
        household += 1
    return persons[:n]


def _noisy_name(rng: random.Random, name: str) -> str:
    r = rng.random()
    if r < 0.15:
        return "".join(TRADITIONAL.get(c, c) for c in name)
    if r < 0.22:
        return name[0] + " " + name[1:]
    if r < 0.25 and len(name) > 2:
        return name[:-1] + rng.choice(GIVEN)  # a mistyped character
    return name


def _noisy_date(rng: random.Random, d: dt.date) -> str:
    return rng.choice((f"{d:%Y-%m-%d}", f"{d.year}/{d.month}/{d.day}", f"{d:%Y%m%d}", f"{d.year}年{d.month}月{d.day}日"))


def _noisy_id(rng: random.Random, idn: str) -> str:
    r = rng.random()
    if r < 0.08:
        return ""
    if r < 0.13 and idn[6:8] == "19":
        return idn[:6] + idn[8:17]  # legacy 15-digit form
    if r < 0.17:
        pos = rng.randrange(0, 17)
        digit = str((int(idn[pos]) + rng.randrange(1, 10)) % 10)
        return idn[:pos] + digit + idn[pos + 1 :]  # mistyped digit: check fails (suspect)
    if r < 0.25:
        return idn.lower()
    return idn


def _noisy_address(rng: random.Random, a: str) -> str:
    r = rng.random()
    if r < 0.3:
        return "浙江省" + a if a.startswith("杭州市") else a
    if r < 0.5:
        return a.replace("杭州市", "", 1)
    return a


def make_records(persons: list[Person], seed: int = 2) -> list[SourceRecord]:
    rng = random.Random(seed)
    out: list[SourceRecord] = []
    for p in persons:
        k = rng.choice((1, 2, 2, 3, 3))
        for dept in rng.sample(DEPARTMENTS, k):
            phone = p.phone if rng.random() < 0.7 else ""
            if phone and rng.random() < 0.2:
                phone = "+86 " + phone[:3] + "-" + phone[3:7] + "-" + phone[7:]
            fields = IdentityFields(
                name=_noisy_name(rng, p.name),
                id_number=_noisy_id(rng, p.id_number),
                birth_date=_noisy_date(rng, p.birth) if rng.random() < 0.8 else "",
                sex=rng.choice(("男", "M", "1")) if p.sex == "M" else rng.choice(("女", "F", "2")),
                phone=phone,
                residence_address=_noisy_address(rng, p.residence),
                registered_address=p.registered if rng.random() < 0.6 else "",
                household_number=p.household_number if dept in ("public_security", "civil_affairs") else "",
            )
            out.append(SourceRecord(dept, "people", f"{dept[:2]}{len(out):06d}", fields, p.key, p.household))
    return out


def encode(records: list[SourceRecord], encoder: LinkageEncoder) -> dict[str, list[linkage_pb2.LinkageRecord]]:
    """Encode per department, as each adapter would."""
    by_dept: dict[str, list[linkage_pb2.LinkageRecord]] = {}
    for r in records:
        by_dept.setdefault(r.department, []).append(
            linkage_pb2.LinkageRecord(
                dataset=r.dataset,
                local_record_id=r.local_record_id,
                encoding=encoder.encode(r.fields),
                jurisdiction="西湖区/文新街道/1社区/3网格",
            )
        )
    return by_dept


def true_pairs(keys: list[tuple[str, str, str]], labels: list[int]) -> set[tuple[tuple[str, str, str], ...]]:
    groups: dict[int, list[tuple[str, str, str]]] = {}
    for k, lab in zip(keys, labels, strict=True):
        groups.setdefault(lab, []).append(k)
    out = set()
    for members in groups.values():
        members.sort()
        out.update((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
    return out
