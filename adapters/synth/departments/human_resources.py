"""Human resources and social security (人社局): employment, unemployment, training, hardship aid.

Convention of this system: the coded data dictionary of the national social-security
information system (金保工程) - person table ``ac01`` with aac001 个人编号, aac002 公民身份号码,
aac003 姓名, aac004 性别 (1/2), aac006 出生日期, aae005 联系电话, aae006 地址, aae036 经办时间;
business tables join ac01 by aac001. Dates as YYYYMMDD.
"""

from __future__ import annotations

import datetime as dt

from adapters.synth import notes
from adapters.synth.departments import DepartmentRows, World, days_before, updated_at
from adapters.synth.noise import NoiseRates
from adapters.synth.population import REFERENCE_DATE
from adapters.synth.schema import C, Dataset, DepartmentSchema, Table, query_dataset, table_dataset

DATE_FORMAT = "compact"
NOISE = NoiseRates(id_legacy15=0.02, id_missing=0.005)
HARDSHIP = "生活困难补助"
TRADES = ("电工", "育婴员", "中式烹调师", "电子商务师", "保安员", "养老护理员", "焊工", "美容师")

AC01 = Table("ac01", "个人基本信息", (
    C("aac001", "个人编号"),
    C("aac003", "姓名", "name", "identity", "L3", identity="name"),
    C("aac004", "性别 1男 2女", "sex", "identity", "L2", identity="sex"),
    C("aac006", "出生日期", "birth_date", "identity", "L3", identity="birth_date", type="date"),
    C("aac002", "公民身份号码", "id_number", "identity", "L3", identity="id_number", export=False),
    C("aae005", "联系电话", "phone", "contact", "L3", identity="phone"),
    C("aae006", "联系地址", "residence_address", "address", "L3", identity="residence_address"),
    C("aac011", "学历", "education_level", "education", "L2"),
    C("aac008", "人员状态", "employment_status", "employment", "L2"),
    C("aae036", "经办时间"),
))
JC21 = Table("jc21", "就业登记", (
    C("ajc210", "就业登记编号"),
    C("aac001", "个人编号"),
    C("aab004", "单位名称", "employer", "employment", "L2"),
    C("acc217", "就业形式", "employment_form", "employment", "L2"),
    C("aae030", "开始日期", "start_date", "employment", "L2", type="date"),
    C("aae031", "终止日期", "end_date", "employment", "L2", type="date"),
    C("aae036", "经办时间"),
), indexes=("aac001",))
JC60 = Table("jc60", "失业登记", (
    C("ajc600", "失业登记编号"),
    C("aac001", "个人编号"),
    C("ajc601", "失业登记日期", "registered_date", "employment", "L2", type="date"),
    C("ajc602", "失业原因", "unemployment_reason", "employment", "L2"),
    C("ajc603", "求职意向", "job_wish", "employment", "L1"),
    C("aae036", "经办时间"),
), indexes=("aac001",))
JC70 = Table("jc70", "职业技能培训", (
    C("ajc700", "培训记录编号"),
    C("aac001", "个人编号"),
    C("aca111", "培训工种", "trade", "employment", "L1"),
    C("aae030", "开始日期", "start_date", "employment", "L1", type="date"),
    C("aae031", "结束日期", "end_date", "employment", "L1", type="date"),
    C("ajc701", "结业情况", "result", "employment", "L2"),
    C("aae036", "经办时间"),
), indexes=("aac001",))
KC10 = Table("kc10", "困难帮扶发放", (
    C("akc100", "帮扶记录编号"),
    C("aac001", "个人编号"),
    C("akc101", "帮扶类型", "assistance_type", "assistance", "L2"),
    C("akc102", "金额(元)", "amount", "assistance", "L2", sql="INTEGER", type="integer"),
    C("akc103", "发放日期", "grant_date", "assistance", "L2", type="date"),
    C("akc104", "经办人", "handler", "administrative", "L2"),
    C("akc105", "备注", "notes", "assistance", "L3", type="text"),
    C("aae036", "经办时间"),
), indexes=("aac001",))

_IDENTITY = ("aac003", "aac004", "aac006", "aac002", "aae005")


def _joined(base: Table, name: str, description: str) -> Dataset:
    return query_dataset(base, name, description, "aae036", (("p", AC01, _IDENTITY),),
                         "JOIN ac01 p ON p.aac001 = b.aac001")


SCHEMA = DepartmentSchema("human_resources", "人力资源和社会保障局", (AC01, JC21, JC60, JC70, KC10), (
    table_dataset(AC01, "insured_persons", "参保及就业服务人员", "aae036"),
    _joined(JC21, "employment", "就业登记(含人员身份)"),
    _joined(JC60, "unemployment", "失业登记(含人员身份)"),
    _joined(JC70, "training", "职业技能培训(含人员身份)"),
    _joined(KC10, "hardship_aid", "困难帮扶发放(含人员身份)"),
))


def build(world: World) -> DepartmentRows:
    pop, rng, noise = world.population, world.rng, world.noise
    out = DepartmentRows()
    g = pop.groups
    hardship = set(g["hardship_both"]) | set(g["hardship_hr_only"])
    involved = sorted(set(g["insured_employed"]) | set(g["unemployment_registered"]) | set(g["training"]) | hardship)
    unemployed = set(g["unemployment_registered"])
    training = set(g["training"])
    seq = {"jc21": 0, "jc60": 0, "jc70": 0, "kc10": 0}
    for n, index in enumerate(involved, start=1):
        p = pop.persons[index]
        aac001 = f"4401{n:08d}"  # 12 digits: not shaped like an ID number or a phone
        status = "在职" if p.occupation == "employed" else ("失业" if p.occupation == "unemployed" else "其他")
        out.add(AC01.name, (
            aac001, noise.name(p), noise.sex(p, ("1", "2")), noise.date(p.birth, DATE_FORMAT),
            noise.id_number(p, legacy=True), noise.phone(p), noise.residence(p), p.education, status,
            updated_at(rng),
        ), index)
        if p.occupation == "employed":
            seq["jc21"] += 1
            start = days_before(rng, 30, 3650)
            out.add(JC21.name, (
                f"JY{seq['jc21']:09d}", aac001, p.employer, rng.choice(("单位就业", "灵活就业", "自主创业")),
                noise.date(start, DATE_FORMAT), None, updated_at(rng),
            ), index)
        if index in unemployed:
            seq["jc60"] += 1
            out.add(JC60.name, (
                f"SY{seq['jc60']:09d}", aac001, noise.date(days_before(rng, 10, 700), DATE_FORMAT),
                rng.choice(("单位裁员", "合同到期", "个人辞职", "企业关闭")), rng.choice(TRADES), updated_at(rng, 700),
            ), index)
        if index in training:
            seq["jc70"] += 1
            start = days_before(rng, 20, 900)
            end = start + dt.timedelta(days=rng.choice((15, 30, 45, 60)))
            out.add(JC70.name, (
                f"PX{seq['jc70']:09d}", aac001, rng.choice(TRADES), noise.date(start, DATE_FORMAT),
                noise.date(end, DATE_FORMAT), "在训" if end > REFERENCE_DATE else rng.choice(("合格", "合格", "不合格")),
                updated_at(rng, 900),
            ), index)
        if index in hardship:
            seq["kc10"] += 1
            out.add(KC10.name, (
                f"BF{seq['kc10']:09d}", aac001, HARDSHIP, 600, noise.date(days_before(rng, 1, 365), DATE_FORMAT),
                rng.choice(pop.staff), notes.person_note(p, rng), updated_at(rng, 365),
            ), index)
    return out
