"""Civil affairs (民政局): subsistence allowance (低保) and other assistance.

Convention of this system: ``t_`` tables and ``f_`` prefixed English-ish columns
(f_name, f_idcard, f_grid_code), sex M/F, dates as 2026/3/7. Hardship aid
(生活困难补助) is also paid by human resources to some of the same people: that
overlap is the duplicate-assistance measure.
"""

from __future__ import annotations

from adapters.synth import notes
from adapters.synth.departments import DepartmentRows, World, days_before, updated_at
from adapters.synth.noise import NoiseRates
from adapters.synth.schema import C, DepartmentSchema, Table, query_dataset, table_dataset

DATE_FORMAT = "slash"
NOISE = NoiseRates(id_legacy15=0.06)
SEX = ("M", "F")
RELATION = {"head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母"}
HARDSHIP = "生活困难补助"

FAMILY = Table("t_dibao_family", "低保家庭", (
    C("f_family_id", "低保家庭编号"),
    C("f_address", "家庭住址"),
    C("f_grid_code", "所在网格"),
    C("f_member_count", "保障人数", sql="INTEGER"),
    C("f_monthly_amount", "月保障金额(元)", sql="INTEGER"),
    C("f_approve_date", "批准日期"),
    C("f_status", "保障状态"),
    C("f_reason", "致贫原因"),
    C("f_remark", "备注"),
    C("f_update_time", "更新时间"),
))
MEMBER = Table("t_dibao_member", "低保家庭成员", (
    C("f_member_id", "成员编号"),
    C("f_family_id", "低保家庭编号", "family_id", "household", "L2"),
    C("f_name", "姓名", "name", "identity", "L3", identity="name"),
    C("f_idcard", "身份证号", "id_number", "identity", "L3", identity="id_number", export=False),
    C("f_sex", "性别 M/F", "sex", "identity", "L2", identity="sex"),
    C("f_birthday", "出生日期", "birth_date", "identity", "L3", identity="birth_date", type="date"),
    C("f_relation", "与户主关系", "relation_to_head", "household", "L2"),
    C("f_health", "健康状况", "health_status", "health", "L4"),
    C("f_work_ability", "劳动能力", "work_ability", "employment", "L2"),
    C("f_update_time", "更新时间"),
), indexes=("f_family_id",))
ASSIST = Table("t_assist_record", "救助发放记录", (
    C("f_rec_id", "发放记录编号"),
    C("f_name", "姓名", "name", "identity", "L3", identity="name"),
    C("f_idcard", "身份证号", "id_number", "identity", "L3", identity="id_number", export=False),
    C("f_phone", "联系电话", "phone", "contact", "L3", identity="phone"),
    C("f_sex", "性别 M/F", "sex", "identity", "L2", identity="sex"),
    C("f_address", "住址", "residence_address", "address", "L3", identity="residence_address"),
    C("f_grid_code", "所在网格"),
    C("f_assist_type", "救助类型", "assistance_type", "assistance", "L2"),
    C("f_amount", "金额(元)", "amount", "assistance", "L2", sql="INTEGER", type="integer"),
    C("f_grant_date", "发放日期", "grant_date", "assistance", "L2", type="date"),
    C("f_handler", "经办人", "handler", "administrative", "L2"),
    C("f_remark", "备注", "notes", "assistance", "L3", type="text"),
    C("f_update_time", "更新时间"),
))

SCHEMA = DepartmentSchema("civil_affairs", "民政局", (FAMILY, MEMBER, ASSIST), (
    query_dataset(
        MEMBER, "subsistence_allowance", "低保家庭成员(含家庭住址、网格、金额)", "f_update_time",
        (("f", FAMILY, (
            C("f_address", "家庭住址", "residence_address", "address", "L3", identity="residence_address"),
            "f_grid_code",
            C("f_monthly_amount", "月保障金额(元)", "monthly_amount", "assistance", "L2", sql="INTEGER", type="integer"),
            C("f_status", "保障状态", "allowance_status", "assistance", "L2"),
            C("f_reason", "致贫原因", "poverty_reason", "assistance", "L3"),
        )),),
        "JOIN t_dibao_family f ON f.f_family_id = b.f_family_id", jurisdiction_column="f_grid_code"),
    table_dataset(ASSIST, "assistance", "临时救助、特困供养、生活困难补助等发放记录", "f_update_time", "f_grid_code"),
))


def build(world: World) -> DepartmentRows:
    pop, rng, noise = world.population, world.rng, world.noise
    out = DepartmentRows()
    member_seq = 0
    for i, hh_index in enumerate(pop.groups["dibao_household"], start=1):
        hh = pop.households[hh_index]
        fid = f"DB{i:07d}"
        head = pop.persons[hh.members[0]]
        elderly = hh.kind == "elderly_alone"
        reason = "老年无收入" if elderly else rng.choice(("失业", "重病", "残疾", "单亲家庭"))
        out.add(FAMILY.name, (
            fid, noise.residence(head), hh.grid.path, len(hh.members), 1120 * len(hh.members),
            noise.date(days_before(rng, 60, 2500), DATE_FORMAT), rng.choices(("在保", "停保"), (0.92, 0.08))[0],
            reason, f"户主{head.name}，电话{head.phone or head.landline or '无'}", updated_at(rng, 400),
        ))
        for m in hh.members:
            p = pop.persons[m]
            member_seq += 1
            out.add(MEMBER.name, (
                f"DM{member_seq:08d}", fid, noise.name(p), noise.id_number(p, legacy=True), noise.sex(p, SEX),
                noise.date(p.birth, DATE_FORMAT), RELATION[p.relation],
                rng.choices(("健康", "慢性病", "重病", "残疾"), (0.6, 0.25, 0.07, 0.08))[0],
                "无劳动能力" if p.age < 16 or p.age >= 60 else rng.choice(("有劳动能力", "部分丧失劳动能力")),
                updated_at(rng, 400),
            ), p.index)
    grants: list[tuple[int, str]] = []
    grants += [(i, HARDSHIP) for i in pop.groups["hardship_both"] + pop.groups["hardship_civil_only"]]
    grants += [(i, "特困供养") for i in pop.groups["elderly_alone"] if rng.random() < 0.1]
    grants += [(p.index, "高龄津贴") for p in pop.persons if p.age >= 80 and not p.migrant and rng.random() < 0.6]
    grants += [(rng.randrange(len(pop.persons)), "临时救助") for _ in range(max(1, len(pop.persons) // 300))]
    grants.sort()
    amounts = {HARDSHIP: 800, "特困供养": 1820, "高龄津贴": 100, "临时救助": 1500}
    for seq, (index, kind) in enumerate(grants, start=1):
        p = pop.persons[index]
        remark = notes.person_note(p, rng) if kind in (HARDSHIP, "临时救助") else ""
        out.add(ASSIST.name, (
            f"AR{seq:08d}", noise.name(p), noise.id_number(p, legacy=True), noise.phone(p), noise.sex(p, SEX),
            noise.residence(p), p.grid.path, kind, amounts[kind], noise.date(days_before(rng, 1, 365), DATE_FORMAT),
            rng.choice(pop.staff), remark, updated_at(rng, 365),
        ), p.index)
    return out
