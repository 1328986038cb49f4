"""Justice (司法局): community corrections, resettlement of released prisoners, mediation.

Convention of this system: table-prefixed pinyin columns (dx_xm 对象姓名, dx_zjhm 证件号码,
ry_* for released persons, dsr_* for dispute parties), sex as 男/女, dates ISO.
Counselling sessions are a separate table; some subjects have missed the last three
sessions in a row (REQUIREMENTS.md: that raises an alert to the responsible helper).
"""

from __future__ import annotations

import datetime as dt

from adapters.synth import notes
from adapters.synth.departments import DepartmentRows, World, days_before, updated_at
from adapters.synth.noise import NoiseRates, format_date
from adapters.synth.population import REFERENCE_DATE
from adapters.synth.schema import C, DepartmentSchema, Table, query_dataset, table_dataset

DATE_FORMAT = "iso"
NOISE = NoiseRates(id_legacy15=0.03)
MISSED_THREE_SHARE = 0.12
SEX = ("男", "女")
OFFENCES = ("盗窃罪", "诈骗罪", "危险驾驶罪", "故意伤害罪", "交通肇事罪", "寻衅滋事罪", "开设赌场罪", "掩饰隐瞒犯罪所得罪")
CORRECTION_KINDS = (("缓刑", 0.85), ("假释", 0.08), ("管制", 0.02), ("暂予监外执行", 0.05))
OFFICES = ("石牌司法所", "五山司法所", "北京街司法所", "江南中司法所", "沙面司法所", "三元里司法所", "市桥司法所")

JZDX = Table("jzdx_jbxx", "社区矫正对象基本信息", (
    C("dxbh", "矫正对象编号"),
    C("dx_xm", "姓名", "name", "identity", "L3", identity="name"),
    C("dx_xb", "性别", "sex", "identity", "L2", identity="sex"),
    C("dx_csrq", "出生日期", "birth_date", "identity", "L3", identity="birth_date", type="date"),
    C("dx_zjhm", "证件号码", "id_number", "identity", "L3", identity="id_number", export=False),
    C("dx_lxdh", "联系电话", "phone", "contact", "L3", identity="phone"),
    C("dx_hjd", "户籍地", "registered_address", "address", "L3", identity="registered_address"),
    C("dx_jzd", "居住地", "residence_address", "address", "L3", identity="residence_address"),
    C("jzd_wg", "居住地网格"),
    C("jzlb", "矫正类别", "correction_type", "corrections", "L4"),
    C("zm", "罪名", "offence", "corrections", "L4"),
    C("jzqx_ks", "矫正期限起", "start_date", "corrections", "L3", type="date"),
    C("jzqx_js", "矫正期限止", "end_date", "corrections", "L3", type="date"),
    C("fxdj", "风险等级 红/黄/蓝", "risk_level", "risk", "L2"),
    C("bfr", "帮扶责任人", "responsible_helper", "corrections", "L2"),
    C("bfr_dh", "帮扶责任人电话", "helper_phone", "contact", "L2"),
    C("jzjg", "执行司法所", "supervising_office", "administrative", "L1"),
    C("ajqk", "案件及矫正情况", "notes", "corrections", "L4", type="text"),
    C("nbbz", "内部备注"),
    C("gxsj", "更新时间"),
))
JYHD = Table("jz_jyhd", "矫正教育及心理辅导活动记录", (
    C("hdbh", "活动记录编号"),
    C("dxbh", "矫正对象编号"),
    C("hdrq", "活动日期", "session_date", "corrections", "L3", type="date"),
    C("hdlx", "活动类型", "session_type", "corrections", "L3"),
    C("cxqk", "出席情况 出席/缺席/请假", "attendance", "corrections", "L3"),
    C("jlr", "记录人", "recorded_by", "administrative", "L2"),
    C("hdjl", "活动记录", "session_notes", "corrections", "L4", type="text"),
    C("gxsj", "更新时间"),
), indexes=("dxbh",))
XSRY = Table("azbj_xsry", "安置帮教刑满释放人员", (
    C("xsbh", "刑释人员编号"),
    C("ry_xm", "姓名", "name", "identity", "L3", identity="name"),
    C("ry_xb", "性别", "sex", "identity", "L2", identity="sex"),
    C("ry_csrq", "出生日期", "birth_date", "identity", "L3", identity="birth_date", type="date"),
    C("ry_zjhm", "证件号码", "id_number", "identity", "L3", identity="id_number", export=False),
    C("ry_lxdh", "联系电话", "phone", "contact", "L3", identity="phone"),
    C("ry_hjd", "户籍地", "registered_address", "address", "L3", identity="registered_address"),
    C("ry_jzd", "居住地", "residence_address", "address", "L3", identity="residence_address"),
    C("jzd_wg", "居住地网格"),
    C("yzm", "原罪名", "offence", "corrections", "L4"),
    C("xq", "原判刑期", "sentence", "corrections", "L4"),
    C("sfrq", "释放日期", "release_date", "corrections", "L3", type="date"),
    C("xjqk", "衔接情况", "handover_status", "corrections", "L2"),
    C("azqk", "安置情况", "resettlement_status", "corrections", "L2"),
    C("jyqk", "就业情况", "job_status", "employment", "L2"),
    C("bjfzr", "帮教负责人", "responsible_helper", "corrections", "L2"),
    C("bz", "帮教记录", "notes", "corrections", "L4", type="text"),
    C("gxsj", "更新时间"),
))
TJAJ = Table("tj_jfaj", "人民调解纠纷案件", (
    C("ajbh", "案件编号"),
    C("dsr_xm", "申请当事人姓名", "name", "identity", "L3", identity="name"),
    C("dsr_zjhm", "申请当事人证件号码", identity="id_number"),
    C("dsr_lxdh", "申请当事人电话", "phone", "contact", "L3", identity="phone"),
    C("dsr_dz", "申请当事人住址", "residence_address", "address", "L3", identity="residence_address"),
    C("jf_wg", "纠纷发生网格"),
    C("jflx", "纠纷类型", "dispute_type", "case", "L2"),
    C("jfms", "纠纷描述", "description", "case", "L3", type="text"),
    C("tjjg", "调解结果", "outcome", "case", "L2"),
    C("slrq", "受理日期", "accepted_date", "case", "L2", type="date"),
    C("tjy", "调解员", "mediator", "administrative", "L2"),
    C("gxsj", "更新时间"),
))

SCHEMA = DepartmentSchema("justice", "司法局", (JZDX, JYHD, XSRY, TJAJ), (
    table_dataset(JZDX, "corrections", "社区矫正对象", "gxsj", "jzd_wg", groups=("community_corrections",)),
    query_dataset(
        JYHD, "corrections_sessions", "矫正教育/心理辅导出勤(含对象身份)", "gxsj",
        (("d", JZDX, ("dx_xm", "dx_zjhm", "dx_lxdh", "fxdj", "bfr", "jzd_wg")),),
        "JOIN jzdx_jbxx d ON d.dxbh = b.dxbh", groups=("community_corrections",), jurisdiction_column="jzd_wg"),
    table_dataset(XSRY, "released_prisoners", "刑满释放人员安置帮教", "gxsj", "jzd_wg", groups=("released_prisoner",)),
    table_dataset(TJAJ, "mediation", "人民调解纠纷", "gxsj", "jf_wg"),
))

# Alert rules rendered into adapters/examples/justice.toml (docs/alerts.md). A subject whose
# latest sessions are three or more absences in a row (缺席, after the last attended or
# excused one) raises an alert on the subject's record in `corrections`; it arose on the
# third absence. Window functions and ISO-date string order work on SQLite and PostgreSQL.
MISSED_SESSIONS_SQL = """\
WITH last_present AS (
  SELECT dxbh, MAX(hdrq) AS hdrq FROM jz_jyhd WHERE cxqk <> '缺席' GROUP BY dxbh
), missed AS (
  SELECT s.dxbh, s.hdrq, ROW_NUMBER() OVER (PARTITION BY s.dxbh ORDER BY s.hdrq, s.hdbh) AS n
  FROM jz_jyhd s LEFT JOIN last_present p ON p.dxbh = s.dxbh
  WHERE s.cxqk = '缺席' AND (p.hdrq IS NULL OR s.hdrq > p.hdrq)
)
SELECT dxbh AS record_id, MAX(CASE WHEN n = 3 THEN hdrq END) AS raised_at, COUNT(*) AS detail_value
FROM missed GROUP BY dxbh HAVING COUNT(*) >= 3"""
ALERTS: tuple[dict[str, str], ...] = (
    {
        "name": "three_missed_sessions",
        "kind": "missed_sessions",
        "dataset": "corrections",
        "severity": "high",
        "query": MISSED_SESSIONS_SQL,
        "detail": "{detail_value} consecutive missed counselling sessions",
    },
)


def build(world: World) -> DepartmentRows:
    pop, rng, noise = world.population, world.rng, world.noise
    out = DepartmentRows()
    session_seq = 0
    for i, p in enumerate(pop.members("community_corrections"), start=1):
        dxbh = f"JZ{i:08d}"
        start = days_before(rng, 120, 1000)
        # Subjects on file are still under correction: the term ends after the reference date.
        term = max(rng.choice((365, 540, 730, 1095, 1460)), (REFERENCE_DATE - start).days + rng.randint(30, 400))
        end = start + dt.timedelta(days=term)
        risk = rng.choices(("红", "黄", "蓝"), weights=(0.1, 0.3, 0.6))[0]
        helper = rng.choice(pop.staff)
        out.add(JZDX.name, (
            dxbh, noise.name(p), noise.sex(p, SEX), noise.date(p.birth, DATE_FORMAT), noise.id_number(p, legacy=True),
            noise.phone(p), noise.text(p.hukou_address), noise.residence(p), p.grid.path,
            rng.choices([k for k, _ in CORRECTION_KINDS], weights=[w for _, w in CORRECTION_KINDS])[0],
            rng.choice(OFFENCES), start.isoformat(), end.isoformat(), risk, helper,
            f"13{rng.randrange(10**9):09d}", rng.choice(OFFICES), notes.person_note(p, rng),
            rng.choice(("", "家属已签保证书", "需重点关注")), updated_at(rng, 120),
        ), p.index)
        # Monthly sessions from the start (high risk: twice a month); the last three may all be missed.
        interval = 14 if risk == "红" else 30
        n_sessions = max(1, min(24, (REFERENCE_DATE - start).days // interval))
        missed_tail = rng.random() < MISSED_THREE_SHARE and n_sessions >= 3
        for k in range(n_sessions):
            session_seq += 1
            day = start + dt.timedelta(days=interval * (k + 1))
            if missed_tail and k >= n_sessions - 3:
                attendance = "缺席"
            else:
                attendance = rng.choices(("出席", "缺席", "请假"), weights=(0.9, 0.04, 0.06))[0]
            if missed_tail and k == n_sessions - 4:
                attendance = "出席"
            note = ("本人按时参加，" + notes.person_note(p, rng, with_id=False)) if attendance == "出席" else (
                f"{p.name}未到，电话{p.phone or '无'}无人接听" if attendance == "缺席" else f"{p.name}因病请假")
            out.add(JYHD.name, (
                f"HD{session_seq:09d}", dxbh, format_date(day, DATE_FORMAT),
                rng.choice(("集中教育", "个别教育", "心理辅导", "公益活动")), attendance, helper, note,
                updated_at(rng, 30),
            ), p.index)
    for i, p in enumerate(pop.members("released_prisoner"), start=1):
        azqk = rng.choices(("已安置", "未安置"), weights=(0.85, 0.15))[0]
        out.add(XSRY.name, (
            f"XS{i:08d}", noise.name(p), noise.sex(p, SEX), noise.date(p.birth, DATE_FORMAT),
            noise.id_number(p, legacy=True), noise.phone(p), noise.text(p.hukou_address), noise.residence(p),
            p.grid.path, rng.choice(OFFENCES), f"{rng.randint(1, 10)}年{rng.choice((0, 6))}个月",
            days_before(rng, 30, 1800).isoformat(), rng.choices(("已衔接", "未衔接"), weights=(0.9, 0.1))[0], azqk,
            rng.choices(("已就业", "灵活就业", "自主创业", "未就业"), weights=(0.45, 0.2, 0.05, 0.3))[0],
            rng.choice(pop.staff), notes.person_note(p, rng), updated_at(rng, 365),
        ), p.index)
    # Disputes: about 0.4% of adults bring one; the other party is a neighbour in the same district.
    adults = [p for p in pop.persons if p.age >= 18]
    n_disputes = max(1, round(len(pop.persons) * 0.004))
    for i in range(1, n_disputes + 1):
        a = rng.choice(adults)
        b = rng.choice(adults)
        kind = rng.choice(("邻里纠纷", "婚姻家庭纠纷", "物业纠纷", "劳资纠纷", "房屋租赁纠纷"))
        out.add(TJAJ.name, (
            f"TJ{i:08d}", noise.name(a), noise.id_number(a), noise.phone(a), noise.residence(a), a.grid.path,
            kind, notes.dispute_note(a, b, kind, rng), rng.choices(("调解成功", "调解不成", "调解中"), (0.8, 0.1, 0.1))[0],
            days_before(rng, 1, 700).isoformat(), rng.choice(pop.staff), updated_at(rng, 365),
        ), a.index)
    return out
