"""``pingan pii scan``: output format, bad lines, exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pingan.cli import main

NOTE = "网格员走访欧阳建国，电话13812345678，车牌粤A12345。"


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "notes.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_scan_writes_entities_and_masked_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(
        tmp_path,
        [
            json.dumps({"id": "n1", "text": NOTE}, ensure_ascii=False),
            json.dumps({"id": 2, "text": "无敏感信息。"}, ensure_ascii=False),
        ],
    )
    assert main(["pii", "scan", str(path)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert out[0]["id"] == "n1"
    assert [(e["type"], NOTE[e["start"] : e["end"]]) for e in out[0]["entities"]] == [
        ("PERSON", "欧阳建国"),
        ("PHONE", "13812345678"),
        ("LICENSE_PLATE", "粤A12345"),
    ]
    assert out[0]["masked"] == "网格员走访<PERSON>，电话<PHONE>，车牌<LICENSE_PLATE>。"
    assert out[1] == {"id": 2, "entities": [], "masked": "无敏感信息。"}
    assert set(out[0]) == {"id", "entities", "masked"}


def test_bad_lines_are_reported_skipped_and_fail_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path,
        [
            "{not json",
            json.dumps({"text": NOTE}, ensure_ascii=False),
            json.dumps({"id": "x"}),
            "[1, 2]",
            json.dumps({"id": "ok", "text": "好。"}),
            json.dumps({"id": "t", "text": 5}),
        ],
    )
    out_file = tmp_path / "out.jsonl"
    assert main(["pii", "scan", str(path), "--out", str(out_file)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:1: invalid JSON" in err
    assert f'{path}:2: missing "id"' in err
    assert f'{path}:3: missing "text"' in err
    assert f"{path}:4: expected a JSON object" in err
    assert f'{path}:6: "text" must be a string' in err
    assert "13812345678" not in err
    assert [json.loads(x)["id"] for x in out_file.read_text(encoding="utf-8").splitlines()] == ["ok"]


def test_missing_file_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pii", "scan", str(tmp_path / "absent.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_console_command(tmp_path: Path) -> None:
    path = _write(tmp_path, [json.dumps({"id": "n1", "text": NOTE}, ensure_ascii=False)])
    done = subprocess.run(["pingan", "pii", "scan", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["masked"].count("<") == 3
    assert "Traceback" not in done.stderr
