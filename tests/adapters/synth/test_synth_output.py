"""The generated departments: schemas, ground truth, noise and determinism."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

from opencc import OpenCC

from adapters.synth import idnumber
from adapters.synth.departments import all_departments
from adapters.synth.generate import SynthResult, generate

REQUIRED = {"public_security", "justice", "civil_affairs", "health", "human_resources", "education"}
DATE_PATTERNS = {
    "iso": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "slash": re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$"),
    "compact": re.compile(r"^\d{8}$"),
    "chinese": re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$"),
    "dot": re.compile(r"^\d{4}\.\d{2}\.\d{2}$"),
}


def rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def columns(db: Path) -> dict[str, list[str]]:
    tables = [r[0] for r in rows(db, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    return {t: [r[1] for r in rows(db, f"PRAGMA table_info({t})")] for t in tables}


def truth(synth_dir: Path) -> list[dict[str, str]]:
    with (synth_dir / "ground_truth.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def clean(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().replace(" ", "").upper()


def test_one_database_per_department(synth_dir: Path) -> None:
    dbs = {p.stem for p in synth_dir.glob("*.db")}
    assert REQUIRED <= dbs
    assert "grid_office" in dbs
    for db in dbs:
        assert columns(synth_dir / f"{db}.db"), db


def test_each_department_has_its_own_schema(synth_dir: Path) -> None:
    schemas = {p.stem: columns(p) for p in synth_dir.glob("*.db")}
    tables = [t for s in schemas.values() for t in s]
    assert len(tables) == len(set(tables)), "table names are shared between departments"
    # The column holding a person's name and ID number is named differently in every department.
    name_cols: dict[str, set[str]] = {}
    id_cols: dict[str, set[str]] = {}
    for module in all_departments():
        s = module.SCHEMA
        name_cols[s.name] = {c.name for t in s.tables for c in t.columns if c.identity == "name"}
        id_cols[s.name] = {c.name for t in s.tables for c in t.columns if c.identity == "id_number"}
    depts = sorted(name_cols)
    for i, a in enumerate(depts):
        for b in depts[i + 1 :]:
            assert not name_cols[a] & name_cols[b], (a, b)
            assert not id_cols[a] & id_cols[b], (a, b)
    # Whole column sets differ too: no two departments' person tables look alike.
    flat = {d: {c for cols in s.values() for c in cols} for d, s in schemas.items()}
    for i, a in enumerate(sorted(flat)):
        for b in sorted(flat)[i + 1 :]:
            overlap = len(flat[a] & flat[b]) / min(len(flat[a]), len(flat[b]))
            assert overlap < 0.3, (a, b, flat[a] & flat[b])


def test_ground_truth_covers_every_dataset_record(synth_dir: Path, synth_set: SynthResult) -> None:
    records = truth(synth_dir)
    by_dataset: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for r in records:
        by_dataset[(r["department"], r["dataset"])].append(r)
    persons = {p.person_id: p.household_id for p in synth_set.population.persons}
    expected = set()
    for module in all_departments():
        s = module.SCHEMA
        db = synth_dir / f"{s.name}.db"
        for ds in s.datasets:
            expected.add((s.name, ds.name))
            sql = ds.query or f"SELECT * FROM {ds.base_table}"
            cols = [c.name for c in ds.columns]
            ids = [r[cols.index(ds.id_column)] for r in rows(db, sql)]
            gt = by_dataset[(s.name, ds.name)]
            assert ids, (s.name, ds.name)
            assert sorted(ids) == sorted(r["local_record_id"] for r in gt), (s.name, ds.name)
            assert len(set(ids)) == len(ids)
    assert set(by_dataset) == expected
    for r in records:
        assert persons[r["person_id"]] == r["household_id"]


def test_clean_ids_validate_and_mistyped_ids_do_not(synth_dir: Path, synth_set: SynthResult) -> None:
    true_id = {p.person_id: p.id_number for p in synth_set.population.persons}
    record_person = {r["local_record_id"]: r["person_id"] for r in truth(synth_dir)
                     if r["dataset"] == "population"}
    outcome: Counter[str] = Counter()
    for rybh, sfzh in rows(synth_dir / "public_security.db", "SELECT rybh, sfzh FROM rk_syrk"):
        if sfzh is None:
            outcome["missing"] += 1
            continue
        value, truth_value = clean(sfzh), true_id[record_person[rybh]]
        if len(value) == 15:
            assert value == idnumber.to_legacy15(truth_value)
            outcome["legacy15"] += 1
        elif value == truth_value:
            assert idnumber.is_valid(value)
            outcome["clean"] += 1
        else:
            assert len(value) == 18 and not idnumber.is_valid(value), value
            assert sum(a != b for a, b in zip(value, truth_value)) in (1, 2)
            outcome["mistyped"] += 1
    assert outcome["clean"] > 0.85 * sum(outcome.values())
    assert outcome["mistyped"] > 0 and outcome["legacy15"] > 0 and outcome["missing"] > 0


def test_noise_is_present(synth_dir: Path, synth_set: SynthResult) -> None:
    ps = synth_dir / "public_security.db"
    t2s = OpenCC("t2s")
    names = [r[0] for r in rows(ps, "SELECT xm FROM rk_syrk")]
    assert any(t2s.convert(n) != n for n in names), "no traditional-character names"
    addresses = [r[0] for r in rows(ps, "SELECT sjjzdz FROM rk_syrk")]
    assert any(t2s.convert(a) != a for a in addresses), "no traditional-character addresses"
    assert any(n != n.strip() or " " in n for n in names), "no stray whitespace"
    all_ids = [r[0] for r in rows(ps, "SELECT sfzh FROM rk_syrk WHERE sfzh IS NOT NULL")]
    assert any(unicodedata.normalize("NFKC", i) != i for i in all_ids), "no full-width digits"
    formats = Counter(next((k for k, p in DATE_PATTERNS.items() if p.match(r[0])), "other")
                      for r in rows(ps, "SELECT csrq FROM rk_syrk"))
    assert formats["other"] == 0
    assert formats["compact"] > 0.8 * sum(formats.values())  # the department's own convention
    assert len(formats) == 5, formats
    # Duplicates inside a department: the same person registered twice.
    per_person = Counter(r["person_id"] for r in truth(synth_dir) if r["dataset"] == "population")
    assert 0 < sum(1 for c in per_person.values() if c > 1) < 0.05 * len(per_person)
    # Changed phones: some departments hold an older number than public security.
    true_phone = {p.person_id: p.phone for p in synth_set.population.persons}
    old_phone = {p.person_id: p.old_phone for p in synth_set.population.persons}
    hr_person = {r["local_record_id"]: r["person_id"] for r in truth(synth_dir) if r["dataset"] == "insured_persons"}
    held = [(hr_person[a], ph) for a, ph in rows(synth_dir / "human_resources.db", "SELECT aac001, aae005 FROM ac01")]
    assert any(ph == old_phone[p] and ph != true_phone[p] for p, ph in held if ph)
    manifest = json.loads((synth_dir / "manifest.json").read_text(encoding="utf-8"))
    noise = Counter()
    for dept in manifest["departments"].values():
        noise.update(dept["noise"])
    for kind in ("id_missing", "id_mistyped", "id_transposed", "id_legacy15", "traditional", "name_typo",
                 "other_date_format", "old_phone", "old_address", "fullwidth", "whitespace"):
        assert noise[kind] > 0, kind


def test_proportions_are_plausible(synth_dir: Path, synth_set: SynthResult) -> None:
    pop = synth_set.population
    n = len(pop.persons)
    records = truth(synth_dir)

    def people(department: str, dataset: str) -> set[str]:
        return {r["person_id"] for r in records if r["department"] == department and r["dataset"] == dataset}

    assert 0.001 <= len(people("justice", "corrections")) / n <= 0.003
    assert 0.001 <= len(people("justice", "released_prisoners")) / n <= 0.003
    assert 0.001 <= len(people("public_security", "drug_involved")) / n <= 0.003
    severe = {r[0] for r in rows(synth_dir / "health.db", "SELECT patient_id FROM smd_patient WHERE diagnosis IN "
                                 "('精神分裂症','双相情感障碍','偏执性精神病','分裂情感性障碍','癫痫所致精神障碍',"
                                 "'精神发育迟滞伴发精神障碍')")}
    assert 0.003 <= len(severe) / n <= 0.006
    assert 0.15 <= sum(p.age < 18 for p in pop.persons) / n <= 0.21
    assert 0.02 <= len(people("grid_office", "elderly_alone")) / n <= 0.045
    assert 0 < len(people("public_security", "domestic_violence")) / n <= 0.002
    assert 0 < len(people("public_security", "whistleblowers")) <= max(3, n // 2000)
    adults = [p for p in pop.persons if p.age >= 18]
    assert 0.2 <= sum(p.migrant for p in adults) / len(adults) <= 0.4
    migrants = [p for p in pop.persons if p.migrant]
    assert abs(sum(p.residence_registered for p in migrants) / len(migrants) - 0.387) < 0.04
    # Some migrant children are enrolled as such.
    migrant_flags = Counter(r[0] for r in rows(synth_dir / "education.db", "SELECT is_migrant_child FROM xj_student"))
    assert migrant_flags[1] > 0 and migrant_flags[0] > 0
    # Duplicate assistance: hardship aid from both civil affairs and human resources.
    civil = {r["person_id"] for r in records if r["dataset"] == "assistance"} & {
        p.person_id for i in pop.groups["hardship_both"] + pop.groups["hardship_civil_only"]
        for p in [pop.persons[i]]}
    hr = people("human_resources", "hardship_aid")
    assert 0.15 <= len(civil & hr) / len(civil | hr) <= 0.4


def test_alert_conditions_exist(synth_dir: Path) -> None:
    sessions: dict[str, list[str]] = defaultdict(list)
    for dxbh, cxqk in rows(synth_dir / "justice.db", "SELECT dxbh, cxqk FROM jz_jyhd ORDER BY dxbh, hdrq"):
        sessions[dxbh].append(cxqk)
    missed = [d for d, s in sessions.items() if s[-3:] == ["缺席"] * 3]
    assert 0 < len(missed) < len(sessions)
    risk = Counter(r[0] for r in rows(synth_dir / "justice.db", "SELECT fxdj FROM jzdx_jbxx"))
    assert set(risk) <= {"红", "黄", "蓝"} and risk["蓝"] > risk["红"]
    overdue = rows(synth_dir / "health.db",
                   "SELECT patient_id FROM followup_visit GROUP BY patient_id HAVING max(next_visit_due) < '2026-06-30'")
    patients = rows(synth_dir / "health.db", "SELECT count(*) FROM smd_patient")[0][0]
    assert 0 < len(overdue) < patients


def test_households_share_registration_number(synth_dir: Path, synth_set: SynthResult) -> None:
    households = {h.household_id: h for h in synth_set.population.households}
    number_by_person = {}
    record_person = {r["local_record_id"]: r["person_id"] for r in truth(synth_dir) if r["dataset"] == "population"}
    for rybh, hh, gx in rows(synth_dir / "public_security.db", "SELECT rybh, hh, yhzgx FROM rk_syrk"):
        number_by_person[record_person[rybh]] = hh
    persons = {p.person_id: p for p in synth_set.population.persons}
    sizes = Counter(h.kind for h in households.values())
    assert {"single", "nuclear", "three_gen", "elderly_alone"} <= set(sizes)
    for h in list(households.values())[:300]:
        assert len({number_by_person[persons[f"P{i + 1:07d}"].person_id] for i in h.members}) == 1


def test_same_seed_same_bytes_other_seed_other_rows(tmp_path: Path) -> None:
    a = generate(400, 5, tmp_path / "a")
    b = generate(400, 5, tmp_path / "b")
    c = generate(400, 6, tmp_path / "c")
    for name in ("ground_truth.csv", "manifest.json"):
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes()
    for db in sorted(p.name for p in a.out_dir.glob("*.db")):
        for table in columns(a.out_dir / db):
            sql = f"SELECT * FROM {table} ORDER BY rowid"
            assert rows(a.out_dir / db, sql) == rows(b.out_dir / db, sql), (db, table)
        assert (a.out_dir / db).read_bytes() == (b.out_dir / db).read_bytes(), db
    assert rows(a.out_dir / "public_security.db", "SELECT * FROM rk_syrk") != rows(
        c.out_dir / "public_security.db", "SELECT * FROM rk_syrk")


def test_manifest_counts_match_the_databases(synth_dir: Path) -> None:
    manifest = json.loads((synth_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["persons"] == 5000 and manifest["seed"] == 11
    assert manifest["generator"] == "pingan-synth" and manifest["generator_version"]
    total = 0
    for info in manifest["departments"].values():
        for table, count in info["tables"].items():
            assert rows(synth_dir / info["database"], f"SELECT count(*) FROM {table}")[0][0] == count
        total += sum(info["datasets"].values())
    assert total == manifest["ground_truth_records"] == len(truth(synth_dir))


def test_grid_paths_and_addresses_follow_the_hierarchy(synth_dir: Path) -> None:
    from adapters.synth.places import DISTRICTS

    district_names = {d.code: d.name for d in DISTRICTS}
    path_re = re.compile(r"^(TH|YX|HZ|LW|BY|PY)/S\d{2}/C\d{2}/G\d{2}$")
    registry = rows(synth_dir / "public_security.db", "SELECT jzwg, sjjzdz, rylb, hjdz FROM rk_syrk")
    t2s = OpenCC("t2s")
    for path, address, _, _ in registry:
        assert path_re.match(path), path
        assert address is None or t2s.convert(address).startswith(f"广州市{district_names[path[:2]]}"), address
    migrants = [(addr, hukou) for _, addr, kind, hukou in registry if kind == "2"]
    locals_ = [hukou for _, _, kind, hukou in registry if kind == "1"]
    assert 0.15 < len(migrants) / len(registry) < 0.45
    assert all(not t2s.convert(hukou).startswith("广州市") for _, hukou in migrants)
    assert all(t2s.convert(hukou).startswith("广州市") for hukou in locals_)


def test_free_text_notes_carry_identifiers(synth_dir: Path) -> None:
    notes = [r[0] for r in rows(synth_dir / "justice.db", "SELECT ajqk FROM jzdx_jbxx")]
    notes += [r[0] for r in rows(synth_dir / "grid_office.db", "SELECT visit_content FROM grid_visit")]
    assert any(re.search(r"\d{17}[\dX]", n) for n in notes), "no ID number in notes"
    assert any(re.search(r"1[3-9]\d{9}", n) for n in notes), "no phone in notes"
    assert any("广州市" in n and "号" in n for n in notes), "no address in notes"
    named = rows(synth_dir / "justice.db", "SELECT dx_xm, ajqk FROM jzdx_jbxx")
    t2s = OpenCC("t2s")
    assert sum(t2s.convert(name).strip().replace(" ", "") in note for name, note in named) > 0.8 * len(named)
