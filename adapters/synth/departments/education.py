"""Education (教育局): the student roll (学籍), including migrant children (随迁子女).

Convention of this system: the student-roll platform's mixed English columns
(student_no, stu_name, id_card, birthday), sex 男/女,
dates as 2014.09.01. Every student is a minor. The record id is an internal roll number, not the national
roll number (which is "G" + the ID number and would carry a raw identifier into the hub's pointers).
"""

from __future__ import annotations

import datetime as dt

from adapters.synth.departments import DepartmentRows, World, updated_at
from adapters.synth.noise import NoiseRates, format_date
from adapters.synth.population import REFERENCE_DATE
from adapters.synth.schema import C, DepartmentSchema, Table, table_dataset

DATE_FORMAT = "dot"
NOISE = NoiseRates(id_legacy15=0.0, id_missing=0.01)
LEVELS = ((6, 11, "小学", ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级")),
          (12, 14, "初中", ("初一", "初二", "初三")),
          (15, 17, "高中", ("高一", "高二", "高三")))

STUDENT = Table("xj_student", "学生学籍", (
    C("student_no", "学籍辅号(校内学籍编号)"),
    C("stu_name", "学生姓名", "name", "identity", "L3", identity="name"),
    C("gender", "性别", "sex", "identity", "L2", identity="sex"),
    C("birthday", "出生日期", "birth_date", "identity", "L3", identity="birth_date", type="date"),
    C("id_card", "身份证件号", "id_number", "identity", "L3", identity="id_number", export=False),
    C("nation", "民族", "ethnicity", "identity", "L3"),
    C("school_name", "学校名称", "school", "education", "L2"),
    C("school_level", "学段", "school_level", "education", "L1"),
    C("grade", "年级", "grade", "education", "L1"),
    C("class_name", "班级", "class_name", "education", "L2"),
    C("enrol_date", "入学日期", "enrolment_date", "education", "L2", type="date"),
    C("hukou_type", "户口性质 本地/外地", "hukou_type", "household", "L2"),
    C("is_migrant_child", "是否随迁子女", "migrant_child", "education", "L2", sql="INTEGER", type="boolean"),
    C("home_address", "家庭住址", "residence_address", "address", "L3", identity="residence_address"),
    C("guardian_name", "监护人姓名", "guardian_name", "contact", "L3"),
    C("guardian_relation", "监护人关系", "guardian_relation", "contact", "L2"),
    C("guardian_phone", "监护人电话", "guardian_phone", "contact", "L3"),
    C("remark", "备注", "notes", "education", "L3", type="text"),
    C("update_time", "更新时间"),
))

SCHEMA = DepartmentSchema("education", "教育局", (STUDENT,), (
    table_dataset(STUDENT, "students", "中小学生学籍(含随迁子女)", "update_time", groups=("minor",)),
))


def build(world: World) -> DepartmentRows:
    pop, rng, noise = world.population, world.rng, world.noise
    out = DepartmentRows()
    seq = 0
    for p in pop.persons:
        level = next((lv for lv in LEVELS if lv[0] <= p.age <= lv[1]), None)
        if level is None or rng.random() < 0.02:
            continue
        low, _, stage, grades = level
        school = f"{p.grid.district.name[:-1]}{p.grid.community_name}{'小学' if stage == '小学' else '中学'}"
        # The school year starts on 1 September; a first-year pupil aged `low` enrolled last September.
        enrol = dt.date(REFERENCE_DATE.year - 1 - (p.age - low), 9, 1)
        parents = [pop.persons[m] for m in pop.household_of(p).members
                   if pop.persons[m].relation in ("head", "spouse") and pop.persons[m].age >= 20]
        guardian = rng.choice(parents) if parents else None
        remark = ""
        if guardian is not None and rng.random() < 0.1:
            remark = f"家长{guardian.name}电话{guardian.phone or '无'}，家住{p.residence_address}"
        sid = noise.id_number(p)
        seq += 1
        out.add(STUDENT.name, (
            f"XJ{seq:09d}", noise.name(p), "男" if p.male else "女", noise.date(p.birth, DATE_FORMAT), sid,
            p.ethnicity, school, stage, grades[min(len(grades) - 1, p.age - low)],
            f"{rng.randint(1, 8)}班", format_date(enrol, DATE_FORMAT), "外地" if p.migrant else "本地",
            1 if p.migrant else 0, noise.residence(p), guardian.name if guardian else None,
            ("父亲" if guardian.male else "母亲") if guardian else None,
            (guardian.phone if guardian else None), remark, updated_at(rng, 300),
        ), p.index)
    return out
