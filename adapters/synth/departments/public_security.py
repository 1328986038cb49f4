"""Public security (公安局): the actual-population registry and key-person files.

Convention of this system: pinyin-initial column names (xm 姓名, sfzh 身份证号,
csrq 出生日期, hjdz 户籍地址, sjjzdz 实际居住地址), sex coded 1/2 per GB/T 2261.1,
relation to household head per GB/T 4761, dates as YYYYMMDD. Old records still
carry 15-digit ID numbers.
"""

from __future__ import annotations

from adapters.synth import notes
from adapters.synth.departments import DepartmentRows, World, days_before, updated_at
from adapters.synth.noise import NoiseRates
from adapters.synth.population import Person
from adapters.synth.schema import C, DepartmentSchema, Table, table_dataset

DATE_FORMAT = "compact"
NOISE = NoiseRates(id_legacy15=0.08)
DUPLICATE_SHARE = 0.015

RELATION_CODES = {"head": "02", "spouse": "10", "child_m": "20", "child_f": "30", "parent_m": "51", "parent_f": "52"}
STATIONS = ("石牌派出所", "五山派出所", "北京街派出所", "江南中派出所", "沙面派出所", "三元里派出所", "市桥派出所")

SYRK = Table("rk_syrk", "实有人口信息", (
    C("rybh", "人员编号"),
    C("xm", "姓名", "name", "identity", "L3", identity="name"),
    C("xb", "性别代码 1男 2女", "sex", "identity", "L2", identity="sex"),
    C("mz", "民族", "ethnicity", "identity", "L3"),
    C("csrq", "出生日期", "birth_date", "identity", "L3", identity="birth_date", type="date"),
    C("sfzh", "公民身份号码", "id_number", "identity", "L3", identity="id_number"),
    C("hh", "户号", "household_number", "household", "L2", identity="household_number"),
    C("yhzgx", "与户主关系代码", "relation_to_head", "household", "L2"),
    C("hjdz", "户籍地址", "registered_address", "address", "L3", identity="registered_address"),
    C("sjjzdz", "实际居住地址", "residence_address", "address", "L3", identity="residence_address"),
    C("jzwg", "实际居住网格"),
    C("lxdh", "联系电话", "phone", "contact", "L3", identity="phone"),
    C("rylb", "人员类别 1户籍 2流动", "population_type", "administrative", "L2"),
    C("jzzbh", "居住证编号", "residence_permit_number", "identity", "L3"),
    C("whcd", "文化程度", "education_level", "education", "L2"),
    C("hyzk", "婚姻状况", "marital_status", "identity", "L2"),
    C("djdw", "登记单位", "registering_station", "administrative", "L1"),
    C("czy", "操作员账号"),
    C("gxsj", "更新时间"),
))
SDRY = Table("zdry_sdry", "涉毒人员信息", (
    C("sdbh", "涉毒人员编号"),
    C("xm", "姓名", "name", "identity", "L3", identity="name"),
    C("xb", "性别代码", "sex", "identity", "L2", identity="sex"),
    C("csrq", "出生日期", "birth_date", "identity", "L3", identity="birth_date", type="date"),
    C("sfzh", "公民身份号码", "id_number", "identity", "L3", identity="id_number", export=False),
    C("lxdh", "联系电话", "phone", "contact", "L3", identity="phone"),
    C("sjjzdz", "实际居住地址", "residence_address", "address", "L3", identity="residence_address"),
    C("jzwg", "实际居住网格"),
    C("sdlx", "涉毒类型", "drug_status", "case", "L4"),
    C("gkjb", "管控级别", "control_level", "risk", "L2"),
    C("chrq", "查获日期", "seized_date", "case", "L4", type="date"),
    C("zrmj", "责任民警", "responsible_officer", "administrative", "L2"),
    C("bz", "备注", "notes", "case", "L4", type="text"),
    C("gxsj", "更新时间"),
))
JTBL = Table("jtbl_gzs", "家庭暴力告诫书", (
    C("gzsbh", "告诫书编号"),
    C("shrxm", "受害人姓名", "victim_name", "identity", "L4", identity="name"),
    C("shrsfzh", "受害人身份证号", "victim_id_number", "identity", "L4", identity="id_number", export=False),
    C("shrlxdh", "受害人联系电话", "victim_phone", "contact", "L4", identity="phone"),
    C("shrzz", "受害人住址", "victim_address", "address", "L4", identity="residence_address"),
    C("jzwg", "实际居住网格"),
    C("jyaq", "简要案情", "case_summary", "case", "L4", type="text"),
    C("gzrq", "告诫日期", "warning_date", "case", "L3", type="date"),
    C("bjmj", "办案民警", "officer", "administrative", "L2"),
    C("gxsj", "更新时间"),
))
JBR = Table("jb_jbrxx", "举报人信息(保密)", (
    C("jbbh", "举报编号"),
    C("jbrxm", "举报人姓名", "name", "identity", "L4", identity="name"),
    C("jbrsfzh", "举报人身份证号", identity="id_number"),
    C("jbrlxdh", "举报人联系电话", identity="phone"),
    C("jbsx", "举报事项", "report_summary", "case", "L4", type="text"),
    C("slrq", "受理日期", "accepted_date", "case", "L3", type="date"),
    C("bhcs", "保护措施", "protection_measures", "case", "L4"),
    C("gxsj", "更新时间"),
))

SCHEMA = DepartmentSchema("public_security", "公安局", (SYRK, SDRY, JTBL, JBR), (
    table_dataset(SYRK, "population", "实有人口(含流动人口)", "gxsj", "jzwg"),
    table_dataset(SDRY, "drug_involved", "涉毒人员", "gxsj", "jzwg", groups=("drug_involved",)),
    table_dataset(JTBL, "domestic_violence", "家庭暴力受害人(告诫书)", "gxsj", "jzwg",
                  groups=("domestic_violence_victim",)),
    table_dataset(JBR, "whistleblowers", "举报人(保密)", "gxsj", groups=("whistleblower",)),
))


def _relation(p: Person) -> str:
    if p.relation in ("child", "parent"):
        return RELATION_CODES[f"{p.relation}_{'m' if p.male else 'f'}"]
    return RELATION_CODES[p.relation]


def build(world: World) -> DepartmentRows:
    pop, rng, noise = world.population, world.rng, world.noise
    out = DepartmentRows()
    seq = 0
    for p in pop.persons:
        copies = 2 if rng.random() < DUPLICATE_SHARE else 1
        for _ in range(copies):
            seq += 1
            permit = f"GZJZ{rng.randint(2016, 2026)}{p.index + 1:08d}" if p.residence_registered else None
            out.add(SYRK.name, (
                f"R{seq:012d}", noise.name(p), noise.sex(p, ("1", "2")), p.ethnicity,
                noise.date(p.birth, DATE_FORMAT), noise.id_number(p, legacy=True), p.household_number,
                _relation(p), noise.text(p.hukou_address), noise.residence(p), p.grid.path, noise.phone(p),
                "2" if p.migrant else "1", permit, p.education, p.marital, rng.choice(STATIONS),
                f"pcs{rng.randrange(1000):03d}", updated_at(rng),
            ), p.index)
    for i, p in enumerate(pop.members("drug_involved"), start=1):
        out.add(SDRY.name, (
            f"SD{i:08d}", noise.name(p), noise.sex(p, ("1", "2")), noise.date(p.birth, DATE_FORMAT),
            noise.id_number(p, legacy=True), noise.phone(p), noise.residence(p), p.grid.path,
            rng.choice(("社区戒毒", "社区康复", "吸毒人员", "戒断三年未复吸")), rng.choice(("一级", "二级", "三级")),
            noise.date(days_before(rng, 200, 3000), DATE_FORMAT), rng.choice(pop.staff),
            notes.person_note(p, rng), updated_at(rng),
        ), p.index)
    for i, p in enumerate(pop.members("domestic_violence_victim"), start=1):
        out.add(JTBL.name, (
            f"GJS{i:07d}", noise.name(p), noise.id_number(p), noise.phone(p), noise.residence(p), p.grid.path,
            f"受害人{p.name}反映其家庭成员多次实施殴打，联系电话{p.phone or '无'}，" + notes.person_note(p, rng),
            noise.date(days_before(rng, 30, 1500), DATE_FORMAT), rng.choice(pop.staff), updated_at(rng),
        ), p.index)
    for i, p in enumerate(pop.members("whistleblower"), start=1):
        out.add(JBR.name, (
            f"JB{i:08d}", noise.name(p), noise.id_number(p), noise.phone(p),
            f"举报人{p.name}反映{p.grid.address_prefix()}附近有人从事非法活动。",
            noise.date(days_before(rng, 10, 800), DATE_FORMAT), rng.choice(("身份保密", "身份保密；定期回访")),
            updated_at(rng),
        ), p.index)
    return out
