"""The committed stubs in pingan/v1 match proto/ (python proto/generate.py --check)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_stubs_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "proto" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_check_detects_a_stale_stub(tmp_path: Path) -> None:
    """--check must fail when a stub differs; otherwise the test above could never fail."""
    stub = ROOT / "pingan" / "v1" / "common_pb2.pyi"
    original = stub.read_bytes()
    try:
        stub.write_bytes(original + b"\n# edited by hand\n")
        result = subprocess.run(
            [sys.executable, str(ROOT / "proto" / "generate.py"), "--check"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    finally:
        stub.write_bytes(original)
    assert result.returncode == 1
    assert "common_pb2.pyi" in result.stderr
