"""``pingan hub serve`` stops gracefully on SIGTERM: exit status 0, no traceback, with one
process or with ``--workers 2`` (each worker stops its server, then its writers)."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pingan.cli.sandbox import Keys, write_hub_config

CLI = "import sys; from pingan.cli import main; sys.exit(main())"
ROOT = Path(__file__).resolve().parents[2]  # the tree under test, not whichever one is installed


def _serve_then_terminate(tmp_path: Path, *extra: str) -> tuple[int, str]:
    path = write_hub_config(tmp_path, Keys.generate(tmp_path / "keys"), {})
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, "hub", "serve", "--config", str(path), "--link-every", "-1", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))},
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + 120
            line = ""
            while "listening on port" not in line:
                assert time.monotonic() < deadline and process.poll() is None, "the hub did not start"
                if selector.select(timeout=1.0):
                    line = process.stdout.readline()
        os.kill(process.pid, signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, err


@pytest.mark.timeout(200)
def test_sigterm_stops_a_single_hub_gracefully(tmp_path: Path) -> None:
    code, err = _serve_then_terminate(tmp_path)
    assert code == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]


@pytest.mark.timeout(300)
def test_sigterm_stops_two_workers_gracefully(tmp_path: Path) -> None:
    code, err = _serve_then_terminate(tmp_path, "--workers", "2")
    assert code == 0, err[-3000:]
    assert "Traceback" not in err and "CancelledError" not in err, err[-3000:]
