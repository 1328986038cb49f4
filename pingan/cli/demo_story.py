"""The scripted story behind ``pingan demo`` (issue 7, "The full demo").

From nothing: synthetic departments, one adapter per department on loopback,
linkage, a hub on the embedded defaults (SQLite, in-process Rego), then the calls
a grid worker, a justice officer, a community police officer in an emergency,
and an auditor would make, shown as tables. Everything started is stopped.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from rich.console import Console
from rich.table import Table

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


def run_demo(*, persons: int, seed: int, keep: str | None, tls: bool = True) -> int:
    if keep:
        root = Path(keep)
        root.mkdir(parents=True, exist_ok=True)
        return _story(root, persons, seed, tls)
    with tempfile.TemporaryDirectory(prefix="pingan-demo-") as tmp:
        return _story(Path(tmp), persons, seed, tls)


def _step(title: str) -> None:
    console.rule(f"[bold]{title}")


def _story(root: Path, persons: int, seed: int, use_tls: bool) -> int:
    from adapters.synth.generate import generate

    started = time.perf_counter()
    data = root / "data"
    _step(f"1. Synthetic departments: {persons} residents, seed {seed}")
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
        _show_adapters(adapters, tls)
        addresses = {name: server.address for name, server in adapters.items()}
        config_path = write_hub_config(root, keys, addresses, tls=tls)
        return asyncio.run(_hub_story(config_path, keys, adapters, data, started, tls))


def _adapter_channel(name: str, address: str, tls: SandboxTls | None, *, as_hub: bool = True) -> grpc.Channel:
    """A channel to one adapter: plaintext, or mutual TLS pinned to that adapter's certificate."""
    if tls is None:
        return grpc.insecure_channel(address)
    from hub.departments.client import pinned_adapter_options

    credentials = tls.hub_credentials() if as_hub else tls.client_credentials()
    return grpc.secure_channel(address, credentials, options=pinned_adapter_options(name))


def _show_adapters(adapters: dict[str, Any], tls: SandboxTls | None) -> None:
    transport = "mutual TLS" if tls else "plaintext"
    _step(f"2. One adapter per department, each over its own database (gRPC on loopback, {transport})")
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
                refused = "[red]served[/red]"
            except grpc.RpcError as exc:
                refused = exc.code().name
        fields = sum(len(d.fields) for d in described.datasets)
        table.add_row(name, server.address, str(len(described.datasets)), str(fields), encoded, refused)
    console.print(table)
    if tls is not None:
        # The same call with a department system's (client) certificate: adapters answer the hub only.
        name, server = min(adapters.items())
        with _adapter_channel(name, server.address, tls, as_hub=False) as channel:
            try:
                adapter_pb2_grpc.DepartmentAdapterStub(channel).Describe(adapter_pb2.DescribeRequest(), timeout=5)
                console.print(f"[red]{name} answered a client certificate[/red]")
            except grpc.RpcError as exc:
                console.print(f"with a client certificate instead of the hub's, {name} answers {exc.code().name}")


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


async def _hub_story(
    config_path: Path, keys: Keys, adapters: dict[str, Any], data: Path, started: float, tls: SandboxTls | None
) -> int:
    from hub.config import load_hub_config
    from hub.policy.jurisdiction import RoleAssignment
    from hub.runtime import HubRuntime

    runtime = HubRuntime.create(load_hub_config(config_path))
    port = await runtime.start()
    try:
        _step("3. Linkage: the hub pulls keyed encodings (never raw identifiers) and resolves persons")
        report = await asyncio.to_thread(runtime.link)
        table = Table("department", "records pulled")
        for p in report.pulls:
            table.add_row(p.department, str(p.records))
        console.print(table)
        s = report.summary
        console.print(f"{s.records} records -> {s.persons} persons, {s.households} households")

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
            "auditor": keys.token("auditor-chen", "audit_office", ["auditor"], [home_grid.split("/")[0]]),
        }
        address = f"127.0.0.1:{port}"
        if tls is None:
            channel_cm = grpc.aio.insecure_channel(address)
        else:
            from pingan.tls import expect_server

            # The callers' system presents its client certificate; each person still sends a token.
            channel_cm = grpc.aio.secure_channel(
                address, tls.client_credentials(), options=expect_server("hub", HUB_CERT_NAME)
            )
        async with channel_cm as channel:
            profiles = profile_pb2_grpc.ProfileServiceStub(channel)

            async def ask(who: str, query: profile_pb2.PersonQuery, purpose: str, justification: str = "") -> Any:
                md = (("authorization", f"Bearer {tokens[who]}"),)
                request = profile_pb2.GetPersonProfileRequest(query=query, purpose=purpose, justification=justification)
                try:
                    return await profiles.GetPersonProfile(request, metadata=md, timeout=10)
                except grpc.aio.AioRpcError as exc:
                    return exc

            _step(f"4. Grid worker gw-wang (grid {home_grid}) asks by ID number about a resident of that grid")
            _show(await ask("grid_worker", profile_pb2.PersonQuery(id_number=home.id_number), "routine_visit"))

            _step(f"5. The same grid worker asks about a resident of another grid ({other.jurisdiction})")
            _show(await ask("grid_worker", profile_pb2.PersonQuery(id_number=other.id_number), "routine_visit"))

            _step("6. Justice officer jo-li on a community-corrections subject in their street: corrections data in clear, PII in free-text notes masked")
            _show(await ask("justice", profile_pb2.PersonQuery(person_id=corrections.person_id), "case_handling"))

            _step("7. Break glass: community police, emergency purpose with a justification")
            _show(
                await ask(
                    "police",
                    profile_pb2.PersonQuery(person_id=other.person_id),
                    "emergency",
                    "居民报警称其有自伤风险，需立即核实监护人及病史以便救援",
                )
            )

            _step("8. The health department goes down mid-way: its section is unavailable, the profile is served")
            adapters["health"].stop(0)
            _show(await ask("grid_worker", profile_pb2.PersonQuery(person_id=home.person_id), "routine_visit"))

            _step("9. An auditor exports the log and verifies it offline (entries, checkpoints, public key)")
            await _audit(channel, tokens["auditor"], keys, config_path.parent)

            _step("10. Sharing rates, computed from the audit log only")
            md = (("authorization", f"Bearer {tokens['auditor']}"),)
            stats = await profiles.SharingStats(profile_pb2.SharingStatsRequest(), metadata=md, timeout=10)
            _show_stats(stats)
    finally:
        await runtime.stop()
    console.print(f"[bold green]demo finished in {time.perf_counter() - started:.1f} s; everything it started is stopped")
    return 0


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
        console.print(f"[red]{result.code().name}[/red]: {result.details()}")
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


async def _audit(channel: grpc.aio.Channel, token: str, keys: Keys, root: Path) -> None:
    from audit.checkpoint import NoteVerifier
    from audit.verify import verify_export

    stub = audit_pb2_grpc.AuditServiceStub(channel)
    md = (("authorization", f"Bearer {token}"),)
    await asyncio.sleep(1.2)  # let the time-based checkpoint cover the newest entries
    latest = await stub.GetLatestCheckpoint(audit_pb2.GetLatestCheckpointRequest(), metadata=md, timeout=10)
    export = root / "audit-export.jsonl"
    with export.open("wb") as out:
        async for chunk in stub.ExportRange(audit_pb2.ExportRangeRequest(), metadata=md, timeout=30):
            out.write(chunk.chunk)
    report = verify_export(export.read_bytes().splitlines(), NoteVerifier.load(keys.signing_vkey))
    console.print(f"latest checkpoint covers {latest.tree_size} entries")
    console.print(f"offline verification: {report}")


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
