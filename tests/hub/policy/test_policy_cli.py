"""``pingan policy``: the test runner on both engines and the --db administration flow."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hub.policy.bundle import default_policy_dir
from pingan.cli import main


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(default_policy_dir(), target)
    return target


def test_policy_test_runs_both_engines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "test", "--engine", "both"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "106 passed, 0 failed"


def test_policy_test_fails_on_a_failing_test(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _copy(tmp_path)
    tests = root / "rego" / "authz_test.rego"
    tests.write_text(tests.read_text().replace('h.groups == false\n}', 'h.groups == true\n}', 1))
    assert main(["policy", "test", "--engine", "embedded", "--policies", str(root)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "52 passed, 1 failed"
    assert out[0].startswith("FAIL [embedded] pingan.authz_test.test_grid_worker_header_risk_only")


def test_policy_test_reports_located_parse_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _copy(tmp_path)
    (root / "rego" / "authz.rego").write_text("package pingan.authz\n\nimport rego.v1\n\nallow if {\n")
    assert main(["policy", "test", "--engine", "embedded", "--policies", str(root)]) == 1
    out = capsys.readouterr().out
    assert "ERROR embedded: rego/authz.rego:5:" in out and out.strip().endswith("0 passed, 2 failed")


def test_db_administration_flow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'policy.db'}"
    assert main(["policy", "bootstrap", "--db", db]) == 0
    first = capsys.readouterr().out.split()[0]
    (tmp_path / "people.csv").write_text("gw-1,grid_worker,TH/S03/C07/G05\ncp-1,community_police,TH/S03\n")
    assert main(["policy", "assign", "--db", db, "--csv", str(tmp_path / "people.csv")]) == 0
    assert "2 assignments added" in capsys.readouterr().out

    rules = (default_policy_dir() / "casbin" / "policy.csv").read_text() + "p, grid_worker, ^education/[a-z_]+/L3$, read, deny\n"
    (tmp_path / "policy.csv").write_text(rules)
    code = main(["policy", "propose", "--db", db, "--as", "alice", "--file", f"casbin/policy.csv={tmp_path / 'policy.csv'}",
                 "--description", "no L3 education data for grid workers"])
    out = capsys.readouterr().out
    assert code == 0, out
    proposed = out.split()[0]
    assert "tests: 53 passed, 0 failed" in out and "impact: 0 recorded decisions replayed" in out

    assert main(["policy", "approve", "--db", db, "--as", "alice", proposed]) == 2
    assert "different policy owner" in capsys.readouterr().err
    assert main(["policy", "approve", "--db", db, "--as", "bob", proposed]) == 0
    assert main(["policy", "versions", "--db", db, "--as", "bob"]) == 0
    listing = capsys.readouterr().out
    assert f"{proposed}  active" in listing and f"{first}  superseded" in listing
    assert main(["policy", "rollback", "--db", db, "--as", "bob", first]) == 0
    assert f"{first}  active" in capsys.readouterr().out


def test_cli_errors_are_plain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "test", "--policies", str(tmp_path / "nowhere")]) == 2
    assert "policy directory not found" in capsys.readouterr().err
    (tmp_path / "bad.csv").write_text("gw-1,grid_worker\n")
    assert main(["policy", "assign", "--db", f"sqlite:///{tmp_path / 'p.db'}", "--csv", str(tmp_path / "bad.csv")]) == 2
    assert "bad.csv:1: expected user,role,scope" in capsys.readouterr().err



async def test_hub_mode_talks_grpc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    import grpc

    from hub.policy.admin_service import PolicyAdminService, add_to_server, metadata_identity_for_tests
    from hub.policy.administration import PolicyAdministration
    from hub.policy.bundle import PolicyBundle
    from hub.policy.decision_point import PolicyDecisionPoint
    from hub.policy.rego_embedded import EmbeddedRego
    from hub.policy.store import PolicyStore

    store = PolicyStore.connect(f"sqlite:///{tmp_path / 'hub.db'}")
    admin = PolicyAdministration(store, EmbeddedRego)
    admin.bootstrap(PolicyBundle.from_directory(default_policy_dir()))
    admin.pdp = PolicyDecisionPoint(admin.load_active())
    server = grpc.aio.server()
    add_to_server(server, PolicyAdminService(admin, metadata_identity_for_tests))
    hub = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
    await server.start()

    async def cli(*argv: str) -> int:
        return await asyncio.to_thread(main, list(argv))  # the CLI is synchronous gRPC

    try:
        assert await cli("policy", "versions", "--hub", hub, "--as", "alice") == 0
        assert "active" in capsys.readouterr().out
        assert await cli("policy", "versions", "--hub", hub, "--as", "gw-1", "--roles", "grid_worker") == 2
        assert "PERMISSION_DENIED" in capsys.readouterr().err
        rules = (default_policy_dir() / "casbin" / "policy.csv").read_text() + "p, grid_worker, ^education/[a-z_]+/L3$, read, deny\n"
        (tmp_path / "policy.csv").write_text(rules)
        assert await cli("policy", "propose", "--hub", hub, "--as", "alice", "--file",
                         f"casbin/policy.csv={tmp_path / 'policy.csv'}", "--description", "tighten") == 0
        proposed = capsys.readouterr().out.split()[0]
        assert await cli("policy", "approve", "--hub", hub, "--as", "bob", proposed) == 0
        assert admin.pdp.policy.hash == proposed
    finally:
        await server.stop(None)
        store.engine.dispose()
