"""The scripted story behind ``pingan demo`` (issue 7, "The full demo").

From nothing: synthetic departments, one adapter per department on loopback,
linkage, a hub on the embedded defaults (SQLite, in-process Rego), then the calls
a grid worker, a justice officer, a community police officer in an emergency,
and an auditor would make, shown as tables. Everything started is stopped.

The story checks itself. What each step claims is written down as a small explicit
expectation (the frozen dataclasses below: gRPC status, per-department section
outcomes, header flags, fields in clear, a verified log, a non-empty sharing table)
and the step's real result is compared with it. A step whose result differs prints
one line per difference naming the step, what was expected and what happened; the
story carries on (the later steps do not depend on it), stops everything it started
and the demo exits 1. docs/demo.md lists the steps and their checks.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from audit.verify import VerifyReport

from pingan.cli.demo_checks import (
    DOWN_DEPARTMENT,
    LinkageExpectation,
    Mismatch,
    ProfileExpectation,
    StatusExpectation,
    audit_expectation,
    category_fields,
    category_name,
    check_audit,
    check_linkage,
    check_profile,
    check_sharing,
    check_status,
    outcome_name,
    profile_expectations,
    sharing_expectation,
    status_of,
)
from pingan.cli.sandbox import (
    EXAMPLES,
    HUB_CERT_NAME,
    Keys,
    SandboxTls,
    departments,
    prepare_environment,
    running_adapters,
    write_hub_config,
)
from pingan.v1 import (
    adapter_pb2,
    adapter_pb2_grpc,
    audit_pb2,
    audit_pb2_grpc,
    common_pb2,
    profile_pb2,
    profile_pb2_grpc,
)

console = Console(width=None if os.isatty(1) else 120)

class StoryChecks:
    """Runs the story's steps' checks: prints a line per check, remembers what differed."""

    def __init__(self) -> None:
        self.step = ""
        self.passed = 0
        self.failed: list[str] = []  # steps (with a mismatch)
        self.stopped: str = ""  # why the story could not go on

    def begin(self, step: str, title: str) -> None:
        self.step = step
        console.rule(f"[bold]{escape(title)}")

    def report(self, step: str, claim: str, mismatches: Sequence[Mismatch], detail: str = "") -> bool:
        if not mismatches:
            self.passed += 1
            suffix = f" ({escape(detail)})" if detail else ""
            console.print(f"[green]check {step}: ok[/green]: {escape(claim)}{suffix}", soft_wrap=True)
            return True
        self.failed.append(step)
        for m in mismatches:
            console.print(
                f"[bold red]check {step}: MISMATCH[/bold red]: the story says {escape(claim)}; "
                f"expected {escape(m.expected)}, got {escape(m.got)}",
                soft_wrap=True,
            )
        return False

    def stop(self, exc: BaseException) -> None:
        self.stopped = f"{type(exc).__name__}: {exc}"
        console.print(
            f"[bold red]step {self.step or '?'} could not go on[/bold red]: {escape(self.stopped)}", soft_wrap=True
        )

    @property
    def ok(self) -> bool:
        return not self.failed and not self.stopped

    def summary(self) -> str:
        if self.ok:
            return f"[bold green]demo finished: all {self.passed} checks as the story says[/bold green]"
        problems = []
        if self.failed:
            total = self.passed + len(self.failed)
            problems.append(f"{len(self.failed)} of {total} checks differ from the story ({', '.join(self.failed)})")
        if self.stopped:
            problems.append(f"stopped in step {self.step or '?'}")
        return f"[bold red]demo FAILED[/bold red]: {escape('; '.join(problems))}"


# -- the story ---------------------------------------------------------------------------------------


def run_demo(*, persons: int, seed: int, keep: str | None, tls: bool = True) -> int:
    """Run the story; 0 when every step's result is what the story says, 1 otherwise.

    Everything started (adapters, hub, its child processes, the temporary directory) is
    stopped or removed before the summary and the total run time are printed.
    """
    started = time.perf_counter()
    checks = StoryChecks()
    try:
        if keep:
            root = Path(keep)
            root.mkdir(parents=True, exist_ok=True)
            _story(root, persons, seed, tls, checks)
        else:
            with tempfile.TemporaryDirectory(prefix="pingan-demo-") as tmp:
                _story(Path(tmp), persons, seed, tls, checks)
    except Exception as exc:  # noqa: BLE001 - a step that cannot go on ends the story with a clear line
        traceback.print_exc(file=sys.stderr)
        checks.stop(exc)
    console.print(f"{checks.summary()}; everything it started is stopped", soft_wrap=True)
    console.print(f"total run time {time.perf_counter() - started:.1f} s", soft_wrap=True)
    return 0 if checks.ok else 1


def _story(root: Path, persons: int, seed: int, use_tls: bool, checks: StoryChecks) -> None:
    from adapters.synth.generate import generate

    data = root / "data"
    checks.begin("1 synthetic", f"1. Synthetic departments: {persons} residents, seed {seed}")
    result = generate(persons, seed, data)
    table = Table("department", "tables", "rows")
    for department, tables in sorted(result.tables.items()):
        table.add_row(department, str(len(tables)), str(sum(tables.values())))
    console.print(table)
    prepare_environment(data)
    tls = SandboxTls.create(root / "pki", departments()) if use_tls else None
    keys = Keys.generate(root / "keys")
    # Every adapter witnesses the hub's log: it checks each checkpoint before answering.
    with running_adapters(root / "adapters", tls=tls, witness_key=keys.signing_vkey) as adapters:
        _show_adapters(adapters, tls, checks)
        addresses = {name: server.address for name, server in adapters.items()}
        config_path = write_hub_config(root, keys, addresses, tls=tls)
        asyncio.run(_hub_story(config_path, keys, adapters, data, tls, checks))


def _adapter_channel(name: str, address: str, tls: SandboxTls | None, *, as_hub: bool = True) -> grpc.Channel:
    """A channel to one adapter: plaintext, or mutual TLS pinned to that adapter's certificate."""
    if tls is None:
        return grpc.insecure_channel(address)
    from hub.departments.client import pinned_adapter_options

    credentials = tls.hub_credentials() if as_hub else tls.client_credentials()
    return grpc.secure_channel(address, credentials, options=pinned_adapter_options(name))


def _show_adapters(adapters: dict[str, Any], tls: SandboxTls | None, checks: StoryChecks) -> None:
    transport = "mutual TLS" if tls else "plaintext"
    checks.begin(
        "2 adapters", f"2. One adapter per department, each over its own database (gRPC on loopback, {transport})"
    )
    unwitnessed = StatusExpectation(
        "2 adapters", "every department refuses a fetch that names no audit entry", grpc.StatusCode.FAILED_PRECONDITION
    )
    mismatches: list[Mismatch] = []
    table = Table("department", "address", "datasets", "fields", "linkage sample", "fetch without the hub's witness")
    for name, server in sorted(adapters.items()):
        with _adapter_channel(name, server.address, tls) as channel:
            stub = adapter_pb2_grpc.DepartmentAdapterStub(channel)
            described = stub.Describe(adapter_pb2.DescribeRequest(), timeout=5)
            first = described.datasets[0]
            sample = stub.StreamLinkage(adapter_pb2.StreamLinkageRequest(batch_size=1), timeout=10)
            record = next(iter(sample)).records[0]
            encoded = f"{len(record.encoding.exact)} tokens, {len(record.encoding.bloom)} Bloom filters"
            try:  # a fetch that names no audit entry and no checkpoint: the department refuses it
                stub.FetchRecords(
                    adapter_pb2.FetchRecordsRequest(
                        request_id="demo-no-witness",
                        purpose="statistics",
                        fetches=[
                            adapter_pb2.DatasetFetch(
                                dataset=first.name, local_record_ids=[record.local_record_id], fields=[first.fields[0].name]
                            )
                        ],
                    ),
                    timeout=5,
                )
                code = grpc.StatusCode.OK
                refused = "[red]served[/red]"
            except grpc.RpcError as exc:
                code = exc.code()
                refused = code.name
            mismatches += check_status(unwitnessed, code, name)
        fields = sum(len(d.fields) for d in described.datasets)
        table.add_row(name, server.address, str(len(described.datasets)), str(fields), encoded, refused)
    console.print(table)
    checks.report(unwitnessed.step, unwitnessed.claim, mismatches, f"{unwitnessed.code.name} from {len(adapters)}")
    if tls is not None:
        # The same call with a department system's (client) certificate: adapters answer the hub only.
        only_hub = StatusExpectation(
            "2 adapters", "an adapter answers the hub's certificate only", grpc.StatusCode.PERMISSION_DENIED
        )
        name, server = min(adapters.items())
        with _adapter_channel(name, server.address, tls, as_hub=False) as channel:
            try:
                adapter_pb2_grpc.DepartmentAdapterStub(channel).Describe(adapter_pb2.DescribeRequest(), timeout=5)
                code = grpc.StatusCode.OK
                console.print(f"[red]{name} answered a client certificate[/red]")
            except grpc.RpcError as exc:
                code = exc.code()
                console.print(f"with a client certificate instead of the hub's, {name} answers {code.name}")
        checks.report(only_hub.step, only_hub.claim, check_status(only_hub, code, name), f"{name}: {code.name}")


@dataclass(frozen=True)
class Resident:
    person_id: str
    jurisdiction: str
    id_number: str


def _residents(runtime: Any, data: Path) -> list[Resident]:
    """Residents with a valid ID in the population registry, as the demo's 'typed' queries."""
    from adapters.config import load_config

    config = load_config(EXAMPLES / "public_security.toml")
    dataset = next(d for d in config.datasets if d.name == "population")
    id_column = dict(dataset.identity)["id_number"]
    found = []
    with sqlite3.connect(data / "public_security.db") as db:
        rows = db.execute(f'SELECT "{dataset.id_column}", "{id_column}" FROM "{dataset.table}"').fetchall()
    for local_id, id_number in rows:
        if not id_number or len(str(id_number)) != 18:
            continue
        person_id = runtime.identity.person_of("public_security", "population", str(local_id))
        if person_id is None:
            continue
        info = runtime.identity.person(person_id)
        if info is None or not info.jurisdiction:
            continue
        found.append(Resident(person_id, info.jurisdiction, str(id_number)))
    return found


@dataclass
class _Asked:
    """The story's profile calls so far: how many, and the audit entries of those served."""

    calls: int = 0
    receipts: list[int] = field(default_factory=list)


async def _hub_story(
    config_path: Path,
    keys: Keys,
    adapters: dict[str, Any],
    data: Path,
    tls: SandboxTls | None,
    checks: StoryChecks,
) -> None:
    from hub.config import load_hub_config
    from hub.policy.jurisdiction import RoleAssignment
    from hub.runtime import HubRuntime

    runtime = HubRuntime.create(load_hub_config(config_path))
    try:
        checks.begin(
            "3 linkage", "3. Linkage: the hub pulls keyed encodings (never raw identifiers) and resolves persons"
        )
        port = await runtime.start()
        address = f"127.0.0.1:{port}"
        console.print(f"hub serving callers on {address} ({'mutual TLS' if tls else 'plaintext'})")
        report = await asyncio.to_thread(runtime.link)
        table = Table("department", "records pulled")
        for p in report.pulls:
            table.add_row(p.department, str(p.records))
        console.print(table)
        s = report.summary
        if s is not None:
            console.print(f"{s.records} records -> {s.persons} persons, {s.households} households")
        linkage = LinkageExpectation(
            "3 linkage", "every department's encodings pulled and resolved into persons", tuple(sorted(adapters))
        )
        persons = f"{s.persons} persons" if s is not None else "no resolution"
        checks.report(linkage.step, linkage.claim, check_linkage(linkage, report), persons)

        residents = await asyncio.to_thread(_residents, runtime, data)
        by_grid: dict[str, list[Resident]] = {}
        for r in residents:
            by_grid.setdefault(r.jurisdiction, []).append(r)
        home = _richest(runtime, residents)
        home_grid = home.jurisdiction
        other = next(r for g, rs in sorted(by_grid.items()) if g != home_grid for r in rs)
        corrections = _with_group(runtime, residents, common_pb2.SENSITIVE_GROUP_COMMUNITY_CORRECTIONS)
        street_of = lambda path: "/".join(path.split("/")[:2])  # noqa: E731

        assignments = [
            RoleAssignment("gw-wang", "grid_worker", home_grid),
            RoleAssignment("jo-li", "justice_officer", street_of(corrections.jurisdiction)),
            RoleAssignment("cp-zhao", "community_police", street_of(other.jurisdiction)),
            RoleAssignment("auditor-chen", "auditor", home_grid.split("/")[0]),
        ]
        runtime.policy_store.add_assignments(assignments)
        runtime.admin.sync_active()

        tokens = {
            "grid_worker": keys.token("gw-wang", "grid_office", ["grid_worker"], [home_grid]),
            "justice": keys.token("jo-li", "justice", ["justice_officer"], [street_of(corrections.jurisdiction)]),
            "police": keys.token("cp-zhao", "public_security", ["community_police"], [street_of(other.jurisdiction)]),
            "auditor": keys.token("auditor-chen", "audit_office", ["auditor"], []),  # hub-wide: no jurisdiction
        }
        if tls is None:
            channel_cm = grpc.aio.insecure_channel(address)
        else:
            from pingan.tls import expect_server

            # The callers' system presents its client certificate; each person still sends a token.
            channel_cm = grpc.aio.secure_channel(
                address, tls.client_credentials(), options=expect_server("hub", HUB_CERT_NAME)
            )
        asked = _Asked()
        async with channel_cm as channel:
            profiles = profile_pb2_grpc.ProfileServiceStub(channel)

            async def ask(
                who: str,
                query: profile_pb2.PersonQuery,
                purpose: str,
                expectation: ProfileExpectation,
                justification: str = "",
            ) -> None:
                md = (("authorization", f"Bearer {tokens[who]}"),)
                request = profile_pb2.GetPersonProfileRequest(query=query, purpose=purpose, justification=justification)
                asked.calls += 1
                try:
                    result: Any = await profiles.GetPersonProfile(request, metadata=md, timeout=10)
                    asked.receipts.append(result.audit.entry_index)
                except grpc.aio.AioRpcError as exc:
                    result = exc
                _show(result)
                mismatches = check_profile(expectation, result)
                checks.report(expectation.step, expectation.claim, mismatches, _detail(result, expectation))

            expect = profile_expectations(home=home.person_id, other=other.person_id, corrections=corrections.person_id)
            # step, title, caller, query, purpose, justification
            scripted = (
                ("4 own-grid", f"4. Grid worker gw-wang (grid {home_grid}) asks by ID number about a resident of that grid",
                 "grid_worker", profile_pb2.PersonQuery(id_number=home.id_number), "routine_visit", ""),
                ("5 other-grid", f"5. The same grid worker asks about a resident of another grid ({other.jurisdiction})",
                 "grid_worker", profile_pb2.PersonQuery(id_number=other.id_number), "routine_visit", ""),
                ("6 corrections", "6. Justice officer jo-li on a community-corrections subject in their street: "
                 "corrections data in clear, PII in free-text notes masked",
                 "justice", profile_pb2.PersonQuery(person_id=corrections.person_id), "case_handling", ""),
                ("7 break-glass", "7. Break glass: community police, emergency purpose with a justification",
                 "police", profile_pb2.PersonQuery(person_id=other.person_id), "emergency",
                 "居民报警称其有自伤风险，需立即核实监护人及病史以便救援"),
            )
            for step, title, who, query, purpose, justification in scripted:
                checks.begin(step, title)
                await ask(who, query, purpose, expect[step], justification)

            checks.begin(
                "8 department-down",
                f"8. The {DOWN_DEPARTMENT} department goes down mid-way: its section is unavailable, the profile is served",
            )
            adapters[DOWN_DEPARTMENT].stop(0)
            await ask(
                "grid_worker",
                profile_pb2.PersonQuery(person_id=home.person_id),
                "routine_visit",
                expect["8 department-down"],
            )

            checks.begin(
                "9 audit", "9. An auditor exports the log and verifies it offline (entries, checkpoints, public key)"
            )
            outcome, tree_size = await _audit(channel, tokens["auditor"], keys, config_path.parent)
            audit = audit_expectation(asked.receipts)
            detail = (
                "" if isinstance(outcome, BaseException) else f"{outcome.entries} entries, {outcome.checkpoints} checkpoints"
            )
            checks.report(audit.step, audit.claim, check_audit(audit, outcome, tree_size), detail)

            checks.begin("10 sharing", "10. Sharing rates, computed from the audit log only")
            md = (("authorization", f"Bearer {tokens['auditor']}"),)
            try:
                stats: Any = await profiles.SharingStats(profile_pb2.SharingStatsRequest(), metadata=md, timeout=10)
                _show_stats(stats)
            except grpc.aio.AioRpcError as exc:
                stats = exc
                console.print(f"[red]{exc.code().name}[/red]: {escape(exc.details() or '')}")
            sharing = sharing_expectation(asked.calls)
            detail = (
                "" if isinstance(stats, grpc.RpcError) else f"{len(stats.pairs)} department pairs, {stats.requests} requests"
            )
            checks.report(sharing.step, sharing.claim, check_sharing(sharing, stats), detail)
    finally:
        await runtime.stop()


def _detail(result: Any, expectation: ProfileExpectation) -> str:
    """What a passing profile step showed, in a few words."""
    if isinstance(result, grpc.RpcError):
        return status_of(result).name
    parts = [", ".join(f"{s.department} {outcome_name(s.outcome)}" for s in result.sections)]
    if result.header.flags:
        parts.append(f"flagged {', '.join(result.header.flags)}")
    clear = expectation.clear
    if clear is not None:
        fields = category_fields(result, clear)
        shown = sorted({f.name for f in fields if not f.masking_operator})
        masked = sorted({f"{f.name} {f.masking_operator}" for f in fields if f.masking_operator})
        parts.append(f"{clear.department} {category_name(clear.category)} in clear: {', '.join(shown)}")
        if masked:
            parts.append(f"free text: {', '.join(masked)}")
    return "; ".join(parts)


def _richest(runtime: Any, residents: list[Resident]) -> Resident:
    """A resident known to health and to the most other departments (the best illustration)."""

    def score(r: Resident) -> tuple[bool, int]:
        departments = {ref.department for ref in runtime.identity.records_of(r.person_id)}
        return ("health" in departments, len(departments))

    return max(residents, key=score)


def _with_group(runtime: Any, residents: list[Resident], group: int) -> Resident:
    for r in residents:
        info = runtime.identity.person(r.person_id)
        if info is not None and group in info.groups:
            return r
    raise RuntimeError("the synthetic population has no community-corrections subject; use more --persons")


def _show(result: Any) -> None:
    if isinstance(result, grpc.aio.AioRpcError):
        console.print(f"[red]{result.code().name}[/red]: {escape(result.details() or '')}")
        return
    h = result.header
    console.print(
        f"person [bold]{h.person_id}[/bold]  name {h.masked_name or '-'}  sex {h.sex or '-'}  age {h.age_band or '-'}  "
        f"grid {h.jurisdiction}  risk {h.risk_level or '-'}  helper {h.responsible_helper or '-'}  "
        f"flags {', '.join(h.flags) or '-'}"
    )
    table = Table("department", "outcome", "records", "fields shown (operator)", "reason")
    for section in result.sections:
        outcome = common_pb2.SectionOutcome.Name(section.outcome).removeprefix("SECTION_OUTCOME_").lower()
        fields = []
        if section.records:
            for f in section.records[0].fields[:6]:
                value = _text(f)
                fields.append(f"{f.name}={value}" + (f" ({f.masking_operator})" if f.masking_operator else ""))
        table.add_row(section.department, outcome, str(len(section.records)), "\n".join(fields), section.reason[:90])
    console.print(table)
    console.print(f"audit entry #{result.audit.entry_index} (request {result.audit.request_id[:12]}...)")


def _text(field: common_pb2.Field) -> str:
    if field.withheld:
        return "[withheld]"
    kind = field.value.WhichOneof("kind")
    if kind is None:
        return "-"
    if kind == "date_value":
        d = field.value.date_value
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    value = str(getattr(field.value, kind))
    return value if len(value) <= 24 else value[:24] + "..."


async def _audit(
    channel: grpc.aio.Channel, token: str, keys: Keys, root: Path
) -> tuple[VerifyReport | BaseException, int]:
    """Export the whole log as the auditor and verify it offline; (the report or the error, latest tree size)."""
    from audit.checkpoint import NoteVerifier
    from audit.errors import VerificationError
    from audit.verify import verify_export

    stub = audit_pb2_grpc.AuditServiceStub(channel)
    md = (("authorization", f"Bearer {token}"),)
    await asyncio.sleep(1.2)  # let the time-based checkpoint cover the newest entries
    export = root / "audit-export.jsonl"
    try:
        latest = await stub.GetLatestCheckpoint(audit_pb2.GetLatestCheckpointRequest(), metadata=md, timeout=10)
        with export.open("wb") as out:
            async for chunk in stub.ExportRange(audit_pb2.ExportRangeRequest(), metadata=md, timeout=30):
                out.write(chunk.chunk)
    except grpc.aio.AioRpcError as exc:
        console.print(f"[red]{exc.code().name}[/red]: {escape(exc.details() or '')}")
        return exc, 0
    console.print(f"latest checkpoint covers {latest.tree_size} entries")
    try:
        report = verify_export(export.read_bytes().splitlines(), NoteVerifier.load(keys.signing_vkey))
    except VerificationError as exc:
        console.print(f"offline verification: [bold red]FAILED[/bold red]: {escape(str(exc))}", soft_wrap=True)
        return exc, latest.tree_size
    console.print(f"offline verification: {escape(report.summary())}", soft_wrap=True)
    return report, latest.tree_size


def _show_stats(stats: profile_pb2.SharingStatsResponse) -> None:
    table = Table("requesting", "providing", "clear", "masked", "denied", "unavailable", "sharing rate")
    for p in stats.pairs:
        table.add_row(
            p.requesting_department,
            p.providing_department,
            str(p.clear),
            str(p.masked),
            str(p.denied),
            str(p.unavailable),
            f"{p.sharing_rate:.0%}",
        )
    console.print(table)
    console.print(f"{stats.requests} profile requests; p50 {stats.latency_p50_ms:.1f} ms, p95 {stats.latency_p95_ms:.1f} ms")
