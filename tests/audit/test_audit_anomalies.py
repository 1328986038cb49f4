"""Abuse detection: callers that stand out against peers of the same role are found,
with the entries behind each finding; ordinary callers are not."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from audit.anomalies import find_anomalies
from audit.entry import AccessEntry, Caller, LoggedEntry, Outcome, Section, rfc3339
from audit.store import AuditLog

PINGAN = [sys.executable, "-c", "import sys; from pingan.cli import main; sys.exit(main(sys.argv[1:]))"]
UTC8 = dt.timezone(dt.timedelta(hours=8))
DAY = dt.datetime(2026, 11, 20, 10, 0, tzinfo=UTC8)


def _entry(n: int, user: str, *, when: dt.datetime = DAY, purpose: str = "routine_visit",
           denied_out: bool = False, flags: tuple[str, ...] = ()) -> AccessEntry:
    section = (
        Section("public_security", Outcome.DENIED, ("population",), (), "no role assignment of the caller covers the person's jurisdiction")
        if denied_out
        else Section("public_security", Outcome.MASKED, ("population",))
    )
    return AccessEntry(
        request_id=f"req-{user}-{n:05d}",
        time=rfc3339(when.astimezone(dt.timezone.utc)),
        caller=Caller(user=user, department="grid_office", roles=("grid_worker",)),
        purpose=purpose,
        person_id=f"p-{n % 50:04d}",
        sections=(section,),
        flags=flags,
    )


def _population() -> list[AccessEntry]:
    entries: list[AccessEntry] = []
    for w in range(10):  # ordinary grid workers: 30 daytime requests, one odd denial each
        for n in range(30):
            entries.append(_entry(n, f"gw-{w}", when=DAY + dt.timedelta(minutes=n), denied_out=(n == 0)))
    entries += [_entry(n, "gw-busy", when=DAY + dt.timedelta(seconds=n)) for n in range(400)]
    entries += [_entry(n, "gw-wander", denied_out=n % 2 == 0) for n in range(30)]
    entries += [_entry(n, "gw-night", when=DAY.replace(hour=23) + dt.timedelta(minutes=n)) for n in range(30)]
    entries += [
        _entry(n, "gw-glass", purpose="emergency" if n % 3 == 0 else "routine_visit", flags=("break_glass_review",) if n % 3 == 0 else ())
        for n in range(30)
    ]
    return entries


def _logged(entries: list[AccessEntry]) -> list[LoggedEntry]:
    return [LoggedEntry(i, e.time, e) for i, e in enumerate(entries)]


def test_each_kind_of_outlier_is_found_with_its_entries() -> None:
    entries = _population()
    findings = find_anomalies(_logged(entries))
    got = {(f.caller, f.measure) for f in findings}
    assert got == {
        ("gw-busy", "volume"),
        ("gw-wander", "out_of_jurisdiction"),
        ("gw-night", "night"),
        ("gw-glass", "break_glass"),
    }
    wander = next(f for f in findings if f.caller == "gw-wander")
    assert wander.value == 0.5 and wander.peers == 14
    assert all(entries[i].caller.user == "gw-wander" and entries[i].sections[0].outcome is Outcome.DENIED for i in wander.entries)
    assert len(wander.entries) == 15


def test_a_uniform_population_has_no_findings() -> None:
    entries = [_entry(n, f"gw-{w}", when=DAY + dt.timedelta(minutes=n)) for w in range(10) for n in range(30)]
    assert find_anomalies(_logged(entries)) == []


def test_night_is_local_time() -> None:
    # 23:00 UTC+8 is 15:00 UTC: with a UTC clock the same requests are daytime.
    entries = _population()
    findings = find_anomalies(_logged(entries), tz=dt.timezone.utc)
    assert ("gw-night", "night") not in {(f.caller, f.measure) for f in findings}


def test_command_reads_a_real_log(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    log = AuditLog(url)
    log.append_many(_population())
    log.close()
    result = subprocess.run([*PINGAN, "audit", "anomalies", "--db", url], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for caller in ("gw-busy", "gw-wander", "gw-night", "gw-glass"):
        assert caller in result.stdout
    assert "4 finding(s)" in result.stdout
    bad = subprocess.run(
        [*PINGAN, "audit", "anomalies", "--db", url, "--night", "25-3"], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2 and "--night" in bad.stderr
