"""``pingan synth`` on the command line: output, summary and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pingan.cli import main


def test_synth_writes_every_department(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "data"
    assert main(["synth", "--persons", "300", "--seed", "4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "300 persons" in printed and "public_security.db" in printed and "ground_truth.csv" in printed
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["persons"] == 300 and manifest["seed"] == 4
    assert {p.name for p in out.iterdir()} == {
        f"{d}.db" for d in manifest["departments"]} | {"ground_truth.csv", "manifest.json"}


def test_regenerating_into_the_same_directory_replaces_the_files(tmp_path: Path) -> None:
    assert main(["synth", "--persons", "200", "--seed", "1", "--out", str(tmp_path), "--quiet"]) == 0
    first = (tmp_path / "ground_truth.csv").read_bytes()
    assert main(["synth", "--persons", "200", "--seed", "1", "--out", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "ground_truth.csv").read_bytes() == first


@pytest.mark.parametrize("persons", ["5", "-3", "many"])
def test_bad_person_count(tmp_path: Path, persons: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["synth", "--persons", persons, "--out", str(tmp_path)])
    except SystemExit as exc:  # argparse rejects what is not a number
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert "--persons" in err or "argument" in err
    assert "Traceback" not in err
    assert not list(tmp_path.glob("*.db"))


def test_output_path_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    assert main(["synth", "--persons", "100", "--out", str(target)]) == 2
    assert f"{target} exists and is not a directory" in capsys.readouterr().err
