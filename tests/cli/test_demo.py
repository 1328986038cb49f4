"""``pingan demo`` (issue 7, "The full demo"): the story runs end to end, checks itself, stops
everything it started; and a step whose result contradicts the story is reported, not passed."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from audit.errors import VerificationError
from audit.verify import VerifyReport
from pingan.cli.demo_checks import (
    BREAK_GLASS_FLAG,
    DOWN_DEPARTMENT,
    FREE_TEXT_OPERATOR,
    ProfileExpectation,
    audit_expectation,
    check_audit,
    check_profile,
    check_sharing,
    profile_expectations,
    sharing_expectation,
)
from pingan.cli.demo_story import StoryChecks
from pingan.cli.sandbox import departments
from pingan.v1 import common_pb2, profile_pb2

PINGAN = [sys.executable, "-c", "import sys; from pingan.cli import main; sys.exit(main(sys.argv[1:]))"]

#: Every check the demo prints, by step (docs/demo.md).
STEPS = (
    "2 adapters",
    "3 linkage",
    "4 own-grid",
    "5 other-grid",
    "6 corrections",
    "7 break-glass",
    "8 department-down",
    "9 audit",
    "10 sharing",
)

HOME, OTHER, SUBJECT = "p-home", "p-other", "p-corrections"
CLEAR = common_pb2.SECTION_OUTCOME_CLEAR
MASKED = common_pb2.SECTION_OUTCOME_MASKED
DENIED = common_pb2.SECTION_OUTCOME_DENIED
UNAVAILABLE = common_pb2.SECTION_OUTCOME_UNAVAILABLE
IDENTITY = common_pb2.CATEGORY_IDENTITY
CORRECTIONS = common_pb2.CATEGORY_CORRECTIONS


# -- the real demo, end to end --------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoRun:
    pid: int
    returncode: int
    stdout: str
    stderr: str
    tmpdir: Path


def _session_members(session: int) -> list[str]:
    """Live (non-zombie) processes of ``session``, as "pid command" strings (Linux /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # exited while we looked
            continue
        # pid (comm) state ppid pgrp session ...; comm may hold spaces and parentheses
        comm = text[text.index("(") + 1 : text.rindex(")")]
        state, _ppid, _pgrp, sid = text[text.rindex(")") + 2 :].split()[:4]
        if int(sid) == session and state != "Z":
            members.append(f"{stat.parent.name} {comm}")
    return members


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """``pingan demo`` (default options: mutual TLS, 2000 residents) in its own session, with its own
    working directory, home and temporary directory."""
    root = tmp_path_factory.mktemp("demo")
    tmpdir, home = root / "tmp", root / "home"
    tmpdir.mkdir()
    home.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir), "HOME": str(home), "PYTHONIOENCODING": "utf-8"}
    env.pop("PINGAN_DATA_DIR", None)
    proc = subprocess.Popen(
        [*PINGAN, "demo"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        start_new_session=True,  # the demo and anything it starts share a session named by its pid
    )
    try:
        stdout, stderr = proc.communicate(timeout=600)  # a hang guard, not a timing requirement
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(f"pingan demo did not finish:\n{stdout[-4000:]}\n{stderr[-4000:]}")
    yield DemoRun(proc.pid, proc.returncode, stdout, stderr, tmpdir)
    if _session_members(proc.pid):  # never leave strays behind for the next tests
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def test_demo_tells_the_whole_story_and_exits_0(demo: DemoRun) -> None:
    out = demo.stdout
    assert demo.returncode == 0, f"{out[-6000:]}\n{demo.stderr[-4000:]}"
    assert "MISMATCH" not in out and "could not go on" not in out
    for step in STEPS:
        assert re.search(rf"^check {re.escape(step)}: ok", out, re.MULTILINE), f"no passing check for step {step}"
    # each step's key result, as the readable output shows it
    assert re.search(r"^check 5 other-grid: ok: .*denied \(PERMISSION_DENIED\)", out, re.MULTILINE)
    assert re.search(r"^PERMISSION_DENIED: access denied", out, re.MULTILINE)
    assert re.search(
        r"^check 6 corrections: ok: the justice corrections section in clear .*justice corrections in clear: .*offence",
        out,
        re.MULTILINE,
    )
    assert re.search(rf"^check 7 break-glass: ok: .*granted and flagged {BREAK_GLASS_FLAG}", out, re.MULTILINE)
    assert re.search(rf"flags {BREAK_GLASS_FLAG}", out)
    assert re.search(rf"^check 8 department-down: ok: .*{DOWN_DEPARTMENT} unavailable", out, re.MULTILINE)
    assert re.search(rf"│ {DOWN_DEPARTMENT}\s+│ unavailable", out)
    assert re.search(r"^offline verification: OK .*entries \[0, \d+\) verified", out, re.MULTILINE)
    assert re.search(r"^check 9 audit: ok: the auditor verifies the log offline", out, re.MULTILINE)
    assert "sharing rate" in out
    assert re.search(r"^check 10 sharing: ok: .*\(([1-9]\d*) department pairs, ([1-9]\d*) requests\)", out, re.MULTILINE)
    assert re.search(r"^demo finished: all \d+ checks as the story says; everything it started is stopped", out, re.MULTILINE)
    assert re.search(r"^total run time \d+\.\d s$", out, re.MULTILINE)


def test_demo_stops_everything_it_started(demo: DemoRun) -> None:
    # No process of the demo's session is left (adapters and hub are in-process; the hub's
    # audit writer and any other helper are child processes in that session).
    deadline = time.monotonic() + 10  # grace for the kernel to reap a helper that is already exiting
    while (left := _session_members(demo.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"processes of the demo still running: {left}"
    # Every address it served on (one adapter per department, and the hub) is closed.
    adapters = re.findall(r"│ \w+\s+│ (127\.0\.0\.1:\d+)\s+│", demo.stdout)
    hub = re.findall(r"^hub serving callers on (127\.0\.0\.1:\d+)", demo.stdout, re.MULTILINE)
    assert len(adapters) == len(departments()) and len(hub) == 1, demo.stdout[-6000:]
    for address in [*adapters, *hub]:
        host, port = address.rsplit(":", 1)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((host, int(port)), timeout=5).close()
    # Its temporary directory is removed.
    assert not list(demo.tmpdir.glob("pingan-demo-*"))


# -- the checks themselves, on responses built by hand ------------------------------------------------


def _field(name: str, category: int, operator: str = "", value: str = "x") -> common_pb2.Field:
    return common_pb2.Field(
        name=name,
        value=common_pb2.FieldValue(string_value=value),
        classification=common_pb2.Classification(category=category),
        masking_operator=operator,
    )


def _profile(
    person_id: str,
    sections: list[tuple[str, int, list[common_pb2.Field]]],
    flags: tuple[str, ...] = (),
    groups: tuple[int, ...] = (),
) -> profile_pb2.GetPersonProfileResponse:
    response = profile_pb2.GetPersonProfileResponse(
        header=profile_pb2.ProfileHeader(person_id=person_id, flags=flags, groups=groups),
        audit=profile_pb2.AuditReceipt(entry_index=3, request_id="r-1"),
    )
    for department, outcome, fields in sections:
        section = response.sections.add(department=department, outcome=outcome)
        if fields:
            record = section.records.add(provenance=common_pb2.Provenance(department=department, dataset="d"))
            record.fields.extend(fields)
    return response


def _denied(details: str = "access denied by policy") -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(grpc.StatusCode.PERMISSION_DENIED, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


def _corrections_profile(*offence_operator: str) -> profile_pb2.GetPersonProfileResponse:
    return _profile(
        SUBJECT,
        [
            ("public_security", MASKED, [_field("name", IDENTITY, "name_surname_only")]),
            (
                "justice",
                MASKED,
                [
                    _field("correction_type", CORRECTIONS),
                    _field("offence", CORRECTIONS, *offence_operator),
                    _field("notes", CORRECTIONS, FREE_TEXT_OPERATOR),
                ],
            ),
        ],
        groups=(common_pb2.SENSITIVE_GROUP_COMMUNITY_CORRECTIONS,),
    )


#: One result per profile step that is what the story says.
GOOD = {
    "4 own-grid": _profile(
        HOME,
        [("public_security", MASKED, [_field("name", IDENTITY, "name_surname_only")]), ("health", MASKED, [])],
    ),
    "5 other-grid": _denied(),
    "6 corrections": _corrections_profile(),
    "7 break-glass": _profile(
        OTHER, [("public_security", CLEAR, [_field("name", IDENTITY)])], flags=(BREAK_GLASS_FLAG,)
    ),
    "8 department-down": _profile(
        HOME, [("public_security", MASKED, [_field("name", IDENTITY, "name_surname_only")]), ("health", UNAVAILABLE, [])]
    ),
}

#: Results that contradict the story: (step, result, a word the mismatch must name).
BAD = [
    ("4 own-grid", _profile(HOME, [("public_security", CLEAR, [_field("name", IDENTITY)])]), "masked"),
    ("4 own-grid", _profile(HOME, [("public_security", MASKED, []), ("health", UNAVAILABLE, [])]), "health"),
    ("5 other-grid", GOOD["7 break-glass"], "PERMISSION_DENIED"),
    ("6 corrections", _corrections_profile("redact"), "offence redact"),
    ("6 corrections", _profile(SUBJECT, [("justice", DENIED, [])], groups=(1,)), "justice section"),
    ("7 break-glass", _profile(OTHER, [("public_security", CLEAR, [_field("name", IDENTITY)])]), BREAK_GLASS_FLAG),
    ("7 break-glass", _denied("break glass refused"), "PERMISSION_DENIED"),
    ("7 break-glass", _profile(OTHER, [("public_security", DENIED, [])], flags=(BREAK_GLASS_FLAG,)), "served"),
    ("8 department-down", GOOD["4 own-grid"], f"{DOWN_DEPARTMENT} section unavailable"),
    ("8 department-down", _profile(HOME, [(DOWN_DEPARTMENT, UNAVAILABLE, [])]), "served"),
]


def _expectations() -> dict[str, ProfileExpectation]:
    return profile_expectations(home=HOME, other=OTHER, corrections=SUBJECT)


@pytest.mark.parametrize("step", sorted(GOOD))
def test_a_result_as_the_story_says_passes(step: str) -> None:
    assert check_profile(_expectations()[step], GOOD[step]) == []


@pytest.mark.parametrize(("step", "result", "named"), BAD, ids=[f"{s}-{i}" for i, (s, _, _) in enumerate(BAD)])
def test_a_result_that_contradicts_the_story_is_a_mismatch(step: str, result: object, named: str) -> None:
    mismatches = check_profile(_expectations()[step], result)
    assert mismatches, f"{step}: a contradicting result passed"
    assert all(m.step == step for m in mismatches)
    assert any(named in m.expected or named in m.got for m in mismatches), mismatches
    assert mismatches[0].line().startswith(f"step {step}: expected ")


def test_the_audit_and_sharing_checks_fail_on_a_bad_result() -> None:
    audit = audit_expectation([1, 3, 7])
    report = VerifyReport("pingan-hub/audit", 0, 9, 9, 2, 1, 0)
    assert check_audit(audit, report, tree_size=9) == []
    assert check_audit(audit, VerificationError("entry 4", "altered"), tree_size=9)[0].got.startswith(
        "VerificationError: entry 4"
    )
    assert check_audit(audit, VerifyReport("pingan-hub/audit", 0, 5, 5, 1, 0, 0), tree_size=5)  # misses entry 7
    assert check_audit(audit, VerifyReport("pingan-hub/audit", 0, 9, 9, 0, 0, 0), tree_size=9)  # no checkpoint

    sharing = sharing_expectation(profile_calls=5)
    stats = profile_pb2.SharingStatsResponse(requests=5)
    stats.pairs.add(requesting_department="grid_office", providing_department=DOWN_DEPARTMENT, masked=1, unavailable=1)
    stats.pairs.add(requesting_department="grid_office", providing_department="public_security", masked=2, denied=1)
    assert check_sharing(sharing, stats) == []
    empty = check_sharing(sharing, profile_pb2.SharingStatsResponse(requests=5))
    assert [m.got for m in empty] == ["an empty table"]
    no_outage = profile_pb2.SharingStatsResponse(requests=5)
    no_outage.pairs.add(requesting_department="grid_office", providing_department=DOWN_DEPARTMENT, masked=2, denied=1)
    assert [m.expected for m in check_sharing(sharing, no_outage)] == [f"{DOWN_DEPARTMENT} counted unavailable"]
    assert check_sharing(sharing, _denied("sharing statistics need the auditor role"))


def test_a_mismatch_is_printed_with_its_step_and_fails_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    checks = StoryChecks()
    good = _expectations()["8 department-down"]
    assert checks.report(good.step, good.claim, check_profile(good, GOOD["8 department-down"]))
    assert checks.ok
    bad = _expectations()["5 other-grid"]
    assert not checks.report(bad.step, bad.claim, check_profile(bad, GOOD["7 break-glass"]))
    out = capsys.readouterr().out
    assert "check 8 department-down: ok" in out
    assert re.search(
        r"^check 5 other-grid: MISMATCH: the story says a resident of another grid is denied; "
        r"expected PERMISSION_DENIED, got OK: profile p-other",
        out,
        re.MULTILINE,
    ), out
    assert not checks.ok
    assert "1 of 2 checks differ from the story (5 other-grid)" in checks.summary()
