"""Health (卫健委): severe mental disorder management and follow-up visits.

Convention of this system: English snake_case columns (full_name, id_card_no,
date_of_birth), gender as male/female, ISO dates. The patient table also holds a few
non-severe mental-health patients (depression, anxiety), so the sensitive-group tag
comes from a diagnosis rule, not from the table. Follow-ups are due every 90 days;
some patients are overdue.
"""

from __future__ import annotations

import datetime as dt

from adapters.synth import notes
from adapters.synth.departments import DepartmentRows, World, days_before, updated_at
from adapters.synth.noise import NoiseRates, format_date
from adapters.synth.population import REFERENCE_DATE
from adapters.synth.schema import C, DepartmentSchema, GroupRule, Table, query_dataset, table_dataset

DATE_FORMAT = "iso"
NOISE = NoiseRates(id_legacy15=0.0)
OVERDUE_SHARE = 0.12
FOLLOW_UP_DAYS = 90
SEVERE = ("精神分裂症", "双相情感障碍", "偏执性精神病", "分裂情感性障碍", "癫痫所致精神障碍", "精神发育迟滞伴发精神障碍")
SEVERE_WEIGHTS = (0.55, 0.15, 0.05, 0.08, 0.07, 0.10)
OTHER = ("抑郁症", "焦虑障碍")
OTHER_SHARE = 0.001

PATIENT = Table("smd_patient", "精神卫生患者管理档案", (
    C("patient_id", "患者编号"),
    C("full_name", "姓名", "name", "identity", "L3", identity="name"),
    C("gender", "性别 male/female", "sex", "identity", "L2", identity="sex"),
    C("date_of_birth", "出生日期", "birth_date", "identity", "L3", identity="birth_date", type="date"),
    C("id_card_no", "身份证号", "id_number", "identity", "L3", identity="id_number", export=False),
    C("phone_number", "联系电话", "phone", "contact", "L3", identity="phone"),
    C("home_address", "现住址", "residence_address", "address", "L3", identity="residence_address"),
    C("residence_grid", "现住址网格"),
    C("diagnosis", "诊断", "diagnosis", "health", "L4"),
    C("diagnosis_date", "确诊日期", "diagnosis_date", "health", "L4", type="date"),
    C("risk_assessment_level", "危险性评估等级 0-5", "risk_assessment_level", "risk", "L3", sql="INTEGER",
      type="integer"),
    C("management_status", "管理状态", "management_status", "health", "L2"),
    C("treatment_status", "服药情况", "treatment_status", "health", "L4"),
    C("guardian_name", "监护人姓名", "guardian_name", "contact", "L3"),
    C("guardian_phone", "监护人电话", "guardian_phone", "contact", "L3"),
    C("responsible_doctor", "责任医生", "responsible_doctor", "administrative", "L2"),
    C("record_created", "建档日期", "record_created", "administrative", "L1", type="date"),
    C("last_modified", "最后修改时间"),
))
VISIT = Table("followup_visit", "随访记录", (
    C("visit_id", "随访编号"),
    C("patient_id", "患者编号"),
    C("visit_date", "随访日期", "visit_date", "health", "L3", type="date"),
    C("visit_method", "随访方式", "visit_method", "health", "L2"),
    C("condition_status", "病情", "condition", "health", "L4"),
    C("medication_compliance", "服药依从性", "medication_compliance", "health", "L4"),
    C("next_visit_due", "下次随访日期", "next_visit_due", "health", "L2", type="date"),
    C("doctor_name", "随访医生", "doctor_name", "administrative", "L2"),
    C("visit_notes", "随访记录", "visit_notes", "health", "L4", type="text"),
    C("last_modified", "最后修改时间"),
), indexes=("patient_id",))
RULES = (GroupRule("severe_mental_disorder", "diagnosis", SEVERE),)

SCHEMA = DepartmentSchema("health", "卫生健康委员会", (PATIENT, VISIT), (
    table_dataset(PATIENT, "mental_health_patients", "精神卫生管理患者", "last_modified", "residence_grid",
                  group_rules=RULES),
    query_dataset(
        VISIT, "mental_health_followups", "精神卫生随访记录(含患者身份)", "last_modified",
        (("p", PATIENT, ("full_name", "id_card_no", "diagnosis", "residence_grid")),),
        "JOIN smd_patient p ON p.patient_id = b.patient_id", group_rules=RULES,
        jurisdiction_column="residence_grid"),
))

# Alert rules rendered into adapters/examples/health.toml (docs/alerts.md). A patient whose
# latest follow-up is more than FOLLOW_UP_DAYS old is overdue; it arose on that visit's due
# date (next_visit_due = visit + 90 days). "Today" is the newest visit on file, so the
# frozen synthetic data gives the same alerts on any day (a live department would compare
# with CURRENT_DATE). ISO-date string comparison works on SQLite and PostgreSQL.
OVERDUE_SQL = """\
WITH latest AS (
  SELECT patient_id, MAX(visit_date) AS visit_date FROM followup_visit GROUP BY patient_id
)
SELECT v.patient_id AS record_id, MAX(v.next_visit_due) AS raised_at, MAX(v.visit_date) AS detail_value
FROM followup_visit v JOIN latest l ON l.patient_id = v.patient_id AND l.visit_date = v.visit_date
WHERE v.next_visit_due < (SELECT MAX(visit_date) FROM followup_visit)
GROUP BY v.patient_id"""
ALERTS: tuple[dict[str, str], ...] = (
    {
        "name": "follow_up_overdue",
        "kind": "overdue_visit",
        "dataset": "mental_health_patients",
        "severity": "medium",
        "query": OVERDUE_SQL,
        "detail": "follow-up overdue: last visit {detail_value}, due every 90 days",
    },
)


def build(world: World) -> DepartmentRows:
    pop, rng, noise = world.population, world.rng, world.noise
    out = DepartmentRows()
    severe = set(pop.groups["severe_mental_disorder"])
    others = [p for p in pop.persons if p.age >= 16 and p.index not in severe]
    n_other = max(1, round(len(pop.persons) * OTHER_SHARE))
    patients = [(p, rng.choices(SEVERE, SEVERE_WEIGHTS)[0]) for p in pop.members("severe_mental_disorder")]
    patients += [(p, rng.choice(OTHER)) for p in sorted(rng.sample(others, n_other), key=lambda p: p.index)]
    visit_seq = 0
    for i, (p, diagnosis) in enumerate(patients, start=1):
        pid = f"MH{i:07d}"
        diagnosed = days_before(rng, 200, 4000)
        doctor = rng.choice(pop.staff)
        guardian = pop.persons[rng.choice([m for m in pop.household_of(p).members if m != p.index] or [p.index])]
        out.add(PATIENT.name, (
            pid, noise.name(p), noise.sex(p, ("male", "female")), noise.date(p.birth, DATE_FORMAT),
            noise.id_number(p), noise.phone(p), noise.residence(p), p.grid.path, diagnosis, diagnosed.isoformat(),
            rng.choices(range(6), weights=(0.4, 0.3, 0.15, 0.1, 0.04, 0.01))[0],
            rng.choices(("在管", "失访", "迁出"), weights=(0.9, 0.07, 0.03))[0],
            rng.choice(("规律服药", "间断服药", "未服药")), guardian.name if guardian is not p else None,
            guardian.phone if guardian is not p else None, doctor, diagnosed.isoformat(), updated_at(rng, 200),
        ), p.index)
        overdue = rng.random() < OVERDUE_SHARE
        last = days_before(rng, FOLLOW_UP_DAYS + 10, FOLLOW_UP_DAYS + 200) if overdue else days_before(rng, 0, 80)
        n_visits = rng.randint(3, 10)
        for k in reversed(range(n_visits)):
            day = last - dt.timedelta(days=FOLLOW_UP_DAYS * k)
            if day < diagnosed:
                continue
            visit_seq += 1
            out.add(VISIT.name, (
                f"FV{visit_seq:09d}", pid, format_date(day, DATE_FORMAT), rng.choice(("门诊", "家访", "电话")),
                rng.choices(("稳定", "基本稳定", "不稳定"), weights=(0.7, 0.22, 0.08))[0],
                rng.choice(("规律", "间断", "不服药")), (day + dt.timedelta(days=FOLLOW_UP_DAYS)).isoformat(), doctor,
                notes.person_note(p, rng, with_id=False), updated_at(rng, max(1, (REFERENCE_DATE - day).days + 1)),
            ), p.index)
    return out
