"""Street / community grid office (网格办): visit records and the elderly-alone care roster.

Convention of this system: a small web app's English columns (resident_name,
resident_idno, grid_path), dates as 2026年3月7日. Grid workers often do not record
ID numbers on visits, and type names and phones as they hear them.
"""

from __future__ import annotations

import datetime as dt

from adapters.synth import notes
from adapters.synth.departments import DepartmentRows, World, days_before, updated_at
from adapters.synth.noise import NoiseRates
from adapters.synth.population import REFERENCE_DATE
from adapters.synth.schema import C, DepartmentSchema, Table, table_dataset

DATE_FORMAT = "chinese"
NOISE = NoiseRates(id_missing=0.35, name_typo=0.03, id_legacy15=0.0)
KEY_GROUPS = ("community_corrections", "released_prisoner", "severe_mental_disorder", "drug_involved")

VISIT = Table("grid_visit", "网格走访记录", (
    C("visit_id", "走访编号"),
    C("resident_name", "居民姓名", "name", "identity", "L3", identity="name"),
    C("resident_phone", "居民电话", "phone", "contact", "L3", identity="phone"),
    C("resident_idno", "居民身份证号", identity="id_number"),
    C("grid_path", "所在网格"),
    C("visit_time", "走访时间", "visit_time", "administrative", "L2"),
    C("visitor_name", "网格员", "grid_worker", "administrative", "L2"),
    C("visit_type", "走访类型", "visit_type", "administrative", "L2"),
    C("visit_content", "走访情况", "notes", "case", "L3", type="text"),
    C("follow_up_needed", "是否需跟进", "follow_up_needed", "risk", "L2", sql="INTEGER", type="boolean"),
    C("update_time", "更新时间"),
))
ELDERLY = Table("grid_elderly_care", "独居老人关爱台账", (
    C("care_id", "台账编号"),
    C("elder_name", "老人姓名", "name", "identity", "L3", identity="name"),
    C("elder_idno", "身份证号", "id_number", "identity", "L3", identity="id_number", export=False),
    C("elder_phone", "联系电话", "phone", "contact", "L3", identity="phone"),
    C("elder_address", "居住地址", "residence_address", "address", "L3", identity="residence_address"),
    C("birth", "出生日期", "birth_date", "identity", "L3", identity="birth_date", type="date"),
    C("grid_path", "所在网格"),
    C("health_status", "健康状况", "health_status", "health", "L3"),
    C("emergency_contact", "紧急联系人", "emergency_contact", "contact", "L3"),
    C("emergency_phone", "紧急联系人电话", "emergency_phone", "contact", "L3"),
    C("care_level", "关爱等级", "care_level", "risk", "L2"),
    C("update_time", "更新时间"),
))

SCHEMA = DepartmentSchema("grid_office", "街道网格化服务管理中心", (VISIT, ELDERLY), (
    table_dataset(VISIT, "visits", "网格员走访记录", "update_time", "grid_path"),
    table_dataset(ELDERLY, "elderly_alone", "独居老人关爱台账", "update_time", "grid_path", groups=("elderly_alone",)),
))


def build(world: World) -> DepartmentRows:
    pop, rng, noise = world.population, world.rng, world.noise
    out = DepartmentRows()
    visited: list[tuple[int, str, int]] = []  # (person index, visit type, visits)
    for group in KEY_GROUPS:
        visited += [(i, "重点人员走访", rng.randint(2, 8)) for i in pop.groups[group]]
    visited += [(i, "独居老人关爱", rng.randint(2, 6)) for i in pop.groups["elderly_alone"]]
    visited += [(rng.randrange(len(pop.persons)), rng.choice(("日常巡查", "矛盾排查", "人口信息采集")), 1)
                for _ in range(max(1, len(pop.persons) // 50))]
    visited.sort()
    seq = 0
    for index, kind, count in visited:
        p = pop.persons[index]
        for _ in range(count):
            seq += 1
            when = dt.datetime.combine(days_before(rng, 0, 365), dt.time(rng.randint(8, 18), rng.choice((0, 15, 30, 45))))
            out.add(VISIT.name, (
                f"V{seq:09d}", noise.name(p), noise.phone(p), noise.id_number(p), p.grid.path,
                f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}", rng.choice(pop.staff), kind,
                notes.person_note(p, rng), 1 if rng.random() < 0.1 else 0,
                updated_at(rng, max(1, (REFERENCE_DATE - when.date()).days + 1)),
            ), index)
    for n, index in enumerate(pop.groups["elderly_alone"], start=1):
        p = pop.persons[index]
        contact = pop.persons[rng.randrange(len(pop.persons))]
        out.add(ELDERLY.name, (
            f"EC{n:07d}", noise.name(p), noise.id_number(p), noise.phone(p), noise.residence(p),
            noise.date(p.birth, DATE_FORMAT), p.grid.path, rng.choice(("良好", "一般", "较差")),
            contact.name, contact.phone, rng.choices(("一级", "二级", "三级"), (0.2, 0.3, 0.5))[0],
            updated_at(rng, 365),
        ), index)
    return out
