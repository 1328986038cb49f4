"""``pingan identity link`` on small CSV files, including malformed rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pingan.cli import main

HEADER = "record_id,name,id_number,other_id,birth_date,sex,phone,registered_address,residence_address\n"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    a = tmp_path / "health.csv"
    a.write_text(
        HEADER
        + "a1,張偉,11010519491231002X,,1949-12-31,女,13800138000,河南省郑州市金水区花园路1号,杭州市西湖区文三路12号\n"
        + "a2,李四,,,1990/3/7,男,,,西湖区文三路12号\n"
        + "a3,王五,,,not-a-date,男,,,\n"
        + "a4,only,three\n"
        + "a1,张伟,,,,,,,\n"
        + "a5,孙七,,SSN-77,1985年1月2日,,,,拱墅区莫干山路88号\n",
        encoding="utf-8",
    )
    b = tmp_path / "justice.csv"
    with b.open("wb") as fh:
        fh.write(HEADER.encode())
        fh.write("b1,张 伟,110105491231002,,,,+86 138 0013 8000,,浙江省杭州市西湖区文三路12号\n".encode())
        fh.write("b2,赵六,,,19800101,,,,\n".encode())
        fh.write(b"b3,\xff\xfe,,,,,,,\n")
        fh.write("b4,孫七,,ssn77,1985-01-02,,,,\n".encode())
    return a, b


def test_link_writes_persons_and_households(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, hh = tmp_path / "links.csv", tmp_path / "households.csv"
    assert main(["identity", "link", str(inputs[0]), str(inputs[1]), "--out", str(out), "--households", str(hh)]) == 0
    links = {(r["source"], r["record_id"]): r["person_id"] for r in _read(out)}
    assert list(_read(out)[0]) == ["source", "record_id", "person_id"]
    assert set(links) == {("health", "a1"), ("health", "a2"), ("health", "a5"), ("justice", "b1"), ("justice", "b2"),
                          ("justice", "b4")}
    assert links[("health", "a1")] == links[("justice", "b1")]  # legacy ID, traditional name, +86 phone
    assert links[("health", "a5")] == links[("justice", "b4")]  # other_id and name+birth date
    assert len({links[k] for k in links}) == 4
    households = {(r["source"], r["record_id"]): r["household_id"] for r in _read(hh)}
    assert list(_read(hh)[0]) == ["source", "record_id", "household_id"]
    assert households[("health", "a1")] == households[("health", "a2")] == households[("justice", "b1")]
    assert households[("justice", "b2")] != households[("health", "a1")]
    err = capsys.readouterr().err
    assert f"{inputs[0]}:4: birth_date is not a date in a known format; row skipped" in err
    assert f"{inputs[0]}:5: 3 columns, expected 9; row skipped" in err
    assert f"{inputs[0]}:6: duplicate record_id; row skipped" in err
    assert f"{inputs[1]}:4: invalid UTF-8; row skipped" in err
    assert "not-a-date" not in err and "王五" not in err  # values are never echoed


def test_link_rejects_a_wrong_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "x.csv"
    bad.write_text("record_id,name\nr1,张三\n", encoding="utf-8")
    assert main(["identity", "link", str(bad), "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "x.csv: header must be" in err and "missing columns: id_number" in err


def test_link_rejects_same_stem_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "d1").mkdir()
    (tmp_path / "d2").mkdir()
    for d in ("d1", "d2"):
        (tmp_path / d / "a.csv").write_text(HEADER, encoding="utf-8")
    assert main(["identity", "link", str(tmp_path / "d1/a.csv"), str(tmp_path / "d2/a.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "distinct names" in capsys.readouterr().err
    assert main(["identity", "link", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "cannot read" in capsys.readouterr().err
