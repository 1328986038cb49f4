"""Benchmark the policy decision: Casbin role managers, and a whole profile (six sections).

Part 1 (issue 4, "measure and choose"): 10,000 role assignments over 2,000 grids;
Casbin's pattern-domain role manager (domain matching function = scope prefix)
versus the custom ``within(user, role, path)`` matcher function backed by a
per-user scope index (hub/policy/jurisdiction.py): memory (tracemalloc) and time
per enforce, for requests spread over every grid.

Part 2: a whole profile decision (the header decision plus
``PolicyDecisionPoint.decide_many`` over six department sections; Casbin + Rego),
p50/p99, for the embedded engine (regopy) and the OPA engine (the local OPA
stand-in over HTTP, hub/policy/opa_dev_server.py). Profiles are random users
asking about random persons of their area, so no two share a user and a place.
Three ways: memo off (every section evaluated by Rego); memo on but empty at the
start; memo warmed, as the hub does at start and before an activation, from the
last 2,000 recorded decisions of an earlier, disjoint workload ("yesterday").

Part 3: the finished-decision memo (hub/policy/verdicts.py) on and off, on repeat
callers as ``bench/profile_load.py`` has them (16 users, one place each), the Rego
memo warm in both, alternating blocks.

    python bench/policy_decision.py [--profiles 300] [--seed 7] [--skip-role-managers] [--only-repeat]
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import time
import tracemalloc
from typing import Any

import casbin
from casbin import persist
from casbin.model import Model

from hub.policy.bundle import PolicyBundle, default_policy_dir
from hub.policy.casbin_authorizer import CasbinAuthorizer
from hub.policy.compiled import compile_policy
from hub.policy.decision_point import PolicyDecisionPoint
from hub.policy.jurisdiction import RoleAssignment, within
from hub.policy.model import Context, FieldInfo, HeaderRequest, Resource, SectionRequest, Subject

STREETS, COMMUNITIES, GRIDS = 10, 10, 20  # 10 x 10 x 20 = 2,000 grids
ASSIGNMENTS = 10_000

SECTIONS: dict[str, tuple[str, tuple[FieldInfo, ...]]] = {
    "public_security": ("household_registry", (
        FieldInfo("name", "identity", 2), FieldInfo("id_number", "identity", 3), FieldInfo("phone", "contact", 3),
        FieldInfo("actual_address", "address", 2), FieldInfo("case_summary", "case", 3, "text"), FieldInfo("case_notes", "case", 4, "text"))),
    "justice": ("corrections", (
        FieldInfo("name", "identity", 2), FieldInfo("corrections_status", "corrections", 3),
        FieldInfo("supervision_notes", "corrections", 4, "text"), FieldInfo("risk_level", "risk", 2), FieldInfo("helper", "risk", 2))),
    "health": ("mental_health", (
        FieldInfo("name", "identity", 2), FieldInfo("diagnosis", "health", 4), FieldInfo("follow_up_date", "health", 3, "date"),
        FieldInfo("risk_level", "risk", 2))),
    "civil_affairs": ("assistance", (
        FieldInfo("name", "identity", 2), FieldInfo("allowance_type", "assistance", 2), FieldInfo("allowance_amount", "assistance", 3, "integer"),
        FieldInfo("phone", "contact", 3), FieldInfo("household_size", "household", 2, "integer"))),
    "human_resources": ("employment", (
        FieldInfo("name", "identity", 2), FieldInfo("employment_status", "employment", 2), FieldInfo("income", "employment", 3, "integer"))),
    "education": ("enrolment", (
        FieldInfo("name", "identity", 2), FieldInfo("school", "education", 2), FieldInfo("guardian_phone", "contact", 3))),
}
# role -> (level of its scope: 1 street, 2 community, 3 grid; weight; purposes)
ROLES = {
    "grid_worker": (3, 40, ("routine_visit", "assistance")),
    "community_police": (2, 15, ("routine_visit", "case_handling")),
    "street_officer": (1, 10, ("routine_visit", "case_handling")),
    "justice_officer": (1, 8, ("case_handling",)),
    "civil_affairs_worker": (1, 8, ("assistance",)),
    "health_worker": (1, 8, ("follow_up",)),
    "hr_worker": (1, 5, ("assistance",)),
    "social_worker": (2, 6, ("assistance",)),
}
WARM_PROFILES = 400  # yesterday: other workers, other persons (7 decisions per profile)
WARM_DECISIONS = 2_000  # the hub's default [policy] warm_decisions
GROUP_SETS = ((), (), (), ("elderly_alone",), ("minor",), ("community_corrections",), ("severe_mental_disorder",))


def grids() -> list[str]:
    return [f"TH/S{s:02d}/C{c:02d}/G{g:02d}" for s in range(1, STREETS + 1) for c in range(1, COMMUNITIES + 1) for g in range(1, GRIDS + 1)]


def make_assignments(rng: random.Random, all_grids: list[str]) -> list[RoleAssignment]:
    names, weights = list(ROLES), [ROLES[r][1] for r in ROLES]
    out = []
    for i in range(ASSIGNMENTS):
        role = rng.choices(names, weights)[0]
        grid = rng.choice(all_grids)
        scope = "/".join(grid.split("/")[: 1 + ROLES[role][0]])
        out.append(RoleAssignment(f"u{i:05d}", role, scope))
    return out


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def fmt(values: list[float]) -> str:
    return f"p50 {percentile(values, 50):.3f} ms, p99 {percentile(values, 99):.3f} ms, max {max(values):.3f} ms, mean {statistics.fmean(values):.3f} ms (n={len(values)})"


def measure_build(build: Any) -> tuple[Any, float, float]:
    gc.collect()
    tracemalloc.start()
    t = time.perf_counter()
    obj = build()
    elapsed = time.perf_counter() - t
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return obj, current / 2**20, elapsed


def part1(bundle: PolicyBundle, assignments: list[RoleAssignment], rng: random.Random, all_grids: list[str]) -> None:
    print("== Casbin: role x jurisdiction x object, 10,000 assignments over 2,000 grids")
    requests = []
    for _ in range(4000):
        a = rng.choice(assignments)
        grid = rng.choice([g for g in all_grids if within(g, a.scope)][:50]) if rng.random() < 0.9 else rng.choice(all_grids)
        dept = rng.choice(list(SECTIONS))
        requests.append((a.user_id, grid, f"{dept}/{SECTIONS[dept][0]}/L{rng.randint(1, 4)}"))

    # (a) pattern-domain role manager
    model_text = bundle.casbin_model.replace("within(r.sub, p.sub, r.dom)", "g(r.sub, p.sub, r.dom)")

    def build_pattern() -> Any:
        model = Model()
        model.load_model_from_text(model_text)
        e = casbin.Enforcer(model)
        e.get_role_manager().add_domain_matching_func(lambda path, scope: path == scope or path.startswith(scope + "/"))
        for line in bundle.casbin_rules.splitlines():
            if line.startswith("p,"):
                persist.load_policy_line(line, e.get_model())
        e.add_named_grouping_policies("g", [[a.user_id, a.role, a.scope] for a in assignments])
        return e

    def enforce_all_pattern(e: Any) -> list[float]:
        times = []
        for user, grid, obj in requests:
            t = time.perf_counter()
            e.enforce(user, grid, obj, "read")
            times.append((time.perf_counter() - t) * 1000)
        return times

    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    pattern = build_pattern()
    build_s = time.perf_counter() - t0
    after_build = tracemalloc.get_traced_memory()[0] / 2**20
    # Requests over many grids make the role manager copy matching links per domain.
    sample = requests[:200]
    times_pattern = []
    for user, grid, obj in sample:
        t = time.perf_counter()
        pattern.enforce(user, grid, obj, "read")
        times_pattern.append((time.perf_counter() - t) * 1000)
    after_requests = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    print(f"pattern-domain role manager: build {build_s:.2f} s, memory {after_build:.1f} MiB after build, "
          f"{after_requests:.1f} MiB after {len(sample)} requests over {len({g for _, g, _ in sample})} grids")
    print(f"  enforce: {fmt(times_pattern)}")
    allow_pattern = [pattern.enforce(u, g, o, "read") for u, g, o in sample]
    del pattern
    gc.collect()

    # (b) custom within() with a per-user scope index
    authz, mib, secs = measure_build(lambda: CasbinAuthorizer(bundle.casbin_model, bundle.casbin_rules, assignments))
    print(f"within() + scope index: build {secs:.2f} s, memory {mib:.1f} MiB")
    authz.memoised = False
    times_raw = []
    for user, grid, obj in requests:
        t = time.perf_counter()
        authz.allows(user, grid, obj)
        times_raw.append((time.perf_counter() - t) * 1000)
    print(f"  enforce (every call through Casbin): {fmt(times_raw)}")
    allow_within = [authz.allows(u, g, o) for u, g, o in sample]
    authz.memoised = True
    times_memo = []
    for user, grid, obj in requests:
        t = time.perf_counter()
        authz.allows(user, grid, obj)
        times_memo.append((time.perf_counter() - t) * 1000)
    print(f"  enforce (memoised per roles x object): {fmt(times_memo)}")
    agree = sum(a == b for a, b in zip(allow_pattern, allow_within))
    print(f"  both role managers agree on {agree}/{len(sample)} requests")


def profile_requests(rng: random.Random, assignments: list[RoleAssignment], all_grids: list[str], n: int) -> list[list[SectionRequest]]:
    out = []
    for i in range(n):
        a = rng.choice(assignments)
        grid = rng.choice([g for g in all_grids if within(g, a.scope)][:20])
        purpose = rng.choice(ROLES[a.role][2])
        groups = rng.choice(GROUP_SETS)
        subject = Subject(a.user_id, "grid_office", (a.role,), (a.scope,))
        out.append([
            SectionRequest(subject, Resource(grid, groups, dept, ds, fields, f"P{i}"), purpose, "", Context(), f"bench-{i}")
            for dept, (ds, fields) in SECTIONS.items()
        ])
    return out


def run_profiles(pdp: PolicyDecisionPoint, profiles: list[list[SectionRequest]]) -> tuple[list[float], int]:
    """Time the whole decision of each profile: the header plus every section (decide_many)."""
    times, allowed = [], 0
    for sections in profiles:
        first = sections[0]
        header = HeaderRequest(first.subject, first.resource.person_jurisdiction, first.resource.groups,
                               first.purpose, "", first.context, first.request_id)
        t = time.perf_counter()
        pdp.decide_header(header)
        decisions = pdp.decide_many(sections)
        times.append((time.perf_counter() - t) * 1000)
        allowed += sum(d.allow for d in decisions)
    return times, allowed


def part2(bundle: PolicyBundle, assignments: list[RoleAssignment], rng: random.Random, all_grids: list[str], n: int) -> None:
    from hub.policy.opa_dev_server import OpaDevServer
    from hub.policy.rego_embedded import EmbeddedRego
    from hub.policy.rego_opa import OpaRego, client_for

    print(f"== Whole profile: header + decide_many over {len(SECTIONS)} sections (Casbin + Rego)")
    today = profile_requests(rng, assignments, all_grids, n)
    yesterday = profile_requests(rng, assignments, all_grids, WARM_PROFILES)
    server = OpaDevServer().start()
    try:
        client = client_for(server.url, timeout=10)
        for name, factory in (("embedded", EmbeddedRego), ("opa", lambda b: OpaRego(b, client))):
            policy = compile_policy(bundle, factory, assignments)
            print(f"{name:8s} policy reads: {policy.reads}")
            run_profiles(PolicyDecisionPoint(policy, memo_size=0, verdict_size=0), today[:5])  # first-use compilation
            times, allowed = run_profiles(PolicyDecisionPoint(policy, memo_size=0, verdict_size=0), today)
            print(f"{name:8s} memo off (every section through Rego): {fmt(times)}; sections allowed {allowed}/{len(today) * len(SECTIONS)}")
            pdp = PolicyDecisionPoint(policy)
            times, _ = run_profiles(pdp, today)
            hits, misses = pdp.memo_stats
            print(f"{name:8s} memo on, empty at start: {fmt(times)}; hit rate {hits / max(hits + misses, 1):.1%} ({misses} misses)")
            recorded: list[Any] = []
            run_profiles(PolicyDecisionPoint(policy, recorder=recorded.extend, memo_size=0, verdict_size=0), yesterday)
            pdp = PolicyDecisionPoint(policy)
            t = time.perf_counter()
            added = pdp.warm(r.inputs for r in recorded[-WARM_DECISIONS:])
            warm_s = time.perf_counter() - t
            times, _ = run_profiles(pdp, today)
            hits, misses = pdp.memo_stats
            print(f"{name:8s} memo warmed from the last {WARM_DECISIONS} recorded decisions ({added} entries, {warm_s:.2f} s): "
                  f"{fmt(times)}; hit rate {hits / max(hits + misses, 1):.1%} ({misses} misses)")
            policy.rego.close()
    finally:
        server.stop()


def repeat_requests(rng: random.Random, assignments: list[RoleAssignment], all_grids: list[str], n: int,
                    callers: int = 16) -> list[list[SectionRequest]]:
    """Profiles as ``bench/profile_load.py`` asks them: ``callers`` users, each about
    residents of one place of theirs, for one purpose; most residents in no sensitive group."""
    chosen = rng.sample(assignments, callers)
    places = [(a, rng.choice([g for g in all_grids if within(g, a.scope)]), rng.choice(ROLES[a.role][2])) for a in chosen]
    out = []
    for i in range(n):
        a, grid, purpose = rng.choice(places)
        groups = rng.choice(GROUP_SETS) if rng.random() < 0.1 else ()
        subject = Subject(a.user_id, "grid_office", (a.role,), (a.scope,))
        out.append([
            SectionRequest(subject, Resource(grid, groups, dept, ds, fields, f"P{i}"), purpose, "", Context(), f"bench-{i}")
            for dept, (ds, fields) in SECTIONS.items()
        ])
    return out


def part3(bundle: PolicyBundle, assignments: list[RoleAssignment], rng: random.Random, all_grids: list[str], n: int) -> None:
    """The finished-decision memo (hub/policy/verdicts.py) on and off, on repeat callers,
    the Rego memo warm in both; alternating blocks so both see the same machine."""
    from hub.policy.rego_embedded import EmbeddedRego

    print(f"== Repeat callers (16 users, one place each): header + decide_many over {len(SECTIONS)} sections, "
          "Rego memo warm; finished-decision memo on / off, alternating blocks of 100 profiles")
    profiles = repeat_requests(rng, assignments, all_grids, n)
    policy = compile_policy(bundle, EmbeddedRego, assignments)
    try:
        with_verdicts, without = PolicyDecisionPoint(policy), PolicyDecisionPoint(policy, verdict_size=0)
        for pdp in (with_verdicts, without):
            run_profiles(pdp, profiles)  # warm: every combination is in both memos
        before = with_verdicts.verdict_stats
        on: list[float] = []
        off: list[float] = []
        for start in range(0, n, 100):
            block = profiles[start:start + 100]
            on += run_profiles(with_verdicts, block)[0]
            off += run_profiles(without, block)[0]
        hits, misses = (after - was for after, was in zip(with_verdicts.verdict_stats, before, strict=True))
        print(f"finished-decision memo on:  {fmt(on)}; its hit rate {hits / max(hits + misses, 1):.1%} (measured)")
        print(f"finished-decision memo off: {fmt(off)}")
    finally:
        policy.rego.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-role-managers", action="store_true", help="skip part 1 (the pattern-domain manager takes minutes)")
    parser.add_argument("--only-repeat", action="store_true", help="run only part 3 (repeat callers, finished-decision memo)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    bundle = PolicyBundle.from_directory(default_policy_dir())
    all_grids = grids()
    assignments = make_assignments(rng, all_grids)
    print(f"python {platform.python_version()} on {platform.machine()}, policy {bundle.content_hash[:12]}, "
          f"{len(assignments)} assignments, {len(all_grids)} grids")
    if not args.only_repeat:
        if not args.skip_role_managers:
            part1(bundle, assignments, rng, all_grids)
        part2(bundle, assignments, rng, all_grids, args.profiles)
    part3(bundle, assignments, rng, all_grids, max(args.profiles, 2_000))


if __name__ == "__main__":
    main()
