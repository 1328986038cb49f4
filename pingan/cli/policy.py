"""``pingan policy``: test, inspect and change the access policy.

  pingan policy test [--engine embedded|opa|both] [--policies DIR] [--opa-url URL]
      Run the Rego unit tests (test_* rules with case_* inputs) on one or both
      engines. Ends with the line "N passed, M failed"; exits 1 when any fails or
      the engines disagree. --engine opa without --opa-url starts a local OPA
      stand-in (needs the opa-golib-python-bindings wheel).

  pingan policy bootstrap --db URL [--policies DIR]
      Make the policy directory the first active version of a database.

  pingan policy versions|propose|approve|rollback
      (--hub HOST:PORT --token JWT [--ca CA --client-cert PEM --client-key PEM] | --db URL --as USER)
      --hub talks to the hub's PolicyAdmin over gRPC as the token's person (the
      policy_owner role), over mutual TLS with --ca and a client certificate;
      --db works directly on the database (an operator with database
      credentials; the caller is --as, with the policy_owner role). --hub with
      --as and no --token sends x-pingan-user metadata, which only a hub running
      the test identity seam accepts.

  pingan policy assign --db URL --csv FILE
      Add role assignments (lines "user,role,scope") in one transaction.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pingan.cli import CommandError, hub_channel


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "policy", help="test, inspect and change the access policy", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="policy_command", metavar="ACTION", required=True)

    t = sub.add_parser("test", help="run the Rego unit tests on one or both engines")
    t.add_argument("--engine", choices=("embedded", "opa", "both"), default="both")
    t.add_argument("--policies", metavar="DIR", help="policy directory (default: the repository's policies/)")
    t.add_argument("--opa-url", metavar="URL", help="an OPA server (default: start a local stand-in)")
    t.add_argument("-v", "--verbose", action="store_true", help="list every test")
    t.set_defaults(handler=_test)

    b = sub.add_parser("bootstrap", help="make a policy directory the first active version")
    b.add_argument("--db", required=True, metavar="URL")
    b.add_argument("--policies", metavar="DIR")
    b.add_argument("--as", dest="user", default="bootstrap", metavar="USER")
    b.set_defaults(handler=_bootstrap)

    def target(p: argparse.ArgumentParser) -> None:
        g = p.add_mutually_exclusive_group(required=True)
        g.add_argument("--hub", metavar="HOST:PORT", help="the hub's gRPC address (with --token)")
        g.add_argument("--db", metavar="URL", help="work directly on this database (with --as)")
        hub_channel.add_arguments(p)
        p.add_argument(
            "--as", dest="user", metavar="USER",
            help="your user id: with --db, recorded as proposer or approver; with --hub and no --token, "
            "sent as x-pingan-user metadata, which only a test hub accepts",
        )
        p.add_argument("--roles", default="policy_owner", help="with --as: roles to claim (default policy_owner)")
        p.add_argument("--engine", choices=("embedded", "opa"), default="embedded", help="with --db: Rego engine")
        p.add_argument("--opa-url", metavar="URL", help="with --db --engine opa: the OPA server")

    v = sub.add_parser("versions", help="list policy versions, newest first")
    target(v)
    v.set_defaults(handler=_versions)

    pr = sub.add_parser("propose", help="propose a change; prints errors, tests and the change-impact report")
    target(pr)
    pr.add_argument("--dir", metavar="DIR", help="send every policy file under DIR")
    pr.add_argument("--file", action="append", default=[], metavar="PATH=LOCAL", help="bundle path = local file (repeatable)")
    pr.add_argument("--remove", action="append", default=[], metavar="PATH", help="bundle path to remove (repeatable)")
    pr.add_argument("--description", required=True, help="what changes and why")
    pr.add_argument("--replay", type=int, default=0, metavar="N", help="recorded decisions to replay (default: server's)")
    pr.set_defaults(handler=_propose)

    for name, helptext, fn in (("approve", "approve a proposal (a different policy owner)", _approve),
                               ("rollback", "make an earlier version active again", _rollback)):
        p = sub.add_parser(name, help=helptext)
        target(p)
        p.add_argument("hash", help="the version's content hash")
        p.set_defaults(handler=fn)

    a = sub.add_parser("assign", help="add role assignments from a CSV file (user,role,scope)")
    a.add_argument("--db", required=True, metavar="URL")
    a.add_argument("--csv", required=True, metavar="FILE")
    a.set_defaults(handler=_assign)


# ---------------------------------------------------------------------- test


def _bundle(directory: str | None) -> Any:
    from hub.policy.bundle import PolicyBundle, default_policy_dir
    from hub.policy.errors import PolicyLoadError
    from pingan.cli import CommandError

    try:
        return PolicyBundle.from_directory(directory or default_policy_dir())
    except PolicyLoadError as exc:
        raise CommandError(str(exc)) from None


def _run_engine(name: str, bundle: Any, opa_url: str | None) -> tuple[list[Any], list[str]]:
    """(outcomes, load errors) of one engine."""
    from hub.policy.errors import EngineError, PolicyLoadError

    server = None
    try:
        if name == "embedded":
            from hub.policy.rego_embedded import EmbeddedRego

            engine: Any = EmbeddedRego(bundle)
        else:
            from hub.policy.rego_opa import OpaRego, client_for

            if not opa_url:
                try:
                    from hub.policy.opa_dev_server import OpaDevServer

                    server = OpaDevServer().start()
                except ImportError:
                    return [], ["opa: no --opa-url and the opa-golib-python-bindings wheel is not installed"]
                opa_url = server.url
            engine = OpaRego(bundle, client_for(opa_url))
        try:
            return engine.run_tests(), []
        finally:
            engine.close()
    except PolicyLoadError as exc:
        return [], [f"{name}: {d}" for d in exc.diagnostics] or [f"{name}: policy does not load"]
    except EngineError as exc:
        return [], [f"{name}: {exc}"]
    finally:
        if server is not None:
            server.stop()


def _test(args: argparse.Namespace) -> int:
    bundle = _bundle(args.policies)
    engines = ["embedded", "opa"] if args.engine == "both" else [args.engine]
    passed = failed = 0
    results: dict[str, dict[str, bool]] = {}
    for name in engines:
        outcomes, errors = _run_engine(name, bundle, args.opa_url)
        for e in errors:
            print(f"ERROR {e}")
            failed += 1
        if not outcomes and not errors:
            print(f"ERROR {name}: the bundle has no Rego tests")
            failed += 1
        results[name] = {o.name: o.passed for o in outcomes}
        for o in outcomes:
            if o.passed:
                passed += 1
                if args.verbose:
                    print(f"PASS [{name}] {o.name}")
            else:
                failed += 1
                print(f"FAIL [{name}] {o.name}: {o.detail}")
    if len(results) == 2:
        a, b = results["embedded"], results["opa"]
        for test in sorted(set(a) & set(b)):
            if a[test] != b[test]:
                print(f"DISAGREE {test}: embedded {'pass' if a[test] else 'fail'}, opa {'pass' if b[test] else 'fail'}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


# ---------------------------------------------------------------------- administration


def _admin(args: argparse.Namespace) -> Any:
    from hub.policy.administration import PolicyAdministration
    from hub.policy.store import PolicyStore
    from pingan.cli import CommandError

    try:
        store = PolicyStore.connect(args.db)
    except Exception as exc:  # noqa: BLE001 - report the database problem plainly
        raise CommandError(f"cannot open the policy database {args.db!r}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None
    if getattr(args, "engine", "embedded") == "opa":
        from hub.policy.rego_opa import OpaRego, client_for

        if not args.opa_url:
            raise CommandError("--engine opa needs --opa-url")
        client = client_for(args.opa_url)
        factory: Any = lambda b: OpaRego(b, client)
    else:
        from hub.policy.rego_embedded import EmbeddedRego

        factory = EmbeddedRego
    return PolicyAdministration(store, factory)


def _subject(args: argparse.Namespace) -> Any:
    from hub.policy.model import Subject
    from pingan.cli import CommandError

    if not args.user:
        raise CommandError("--db needs --as USER (recorded as proposer or approver)")

    return Subject(user_id=args.user, department="", roles=tuple(r.strip() for r in args.roles.split(",") if r.strip()))


def _call_db(fn: Any, *a: Any) -> Any:
    from hub.policy.errors import PolicyError
    from pingan.cli import CommandError

    try:
        return fn(*a)
    except PolicyError as exc:
        raise CommandError(str(exc)) from None


def _stub(args: argparse.Namespace) -> tuple[Any, Any]:
    from pingan.v1 import policy_pb2_grpc

    if args.token:
        md: tuple[tuple[str, str], ...] = tuple(hub_channel.token_metadata(args))
    elif args.user:
        md = (("x-pingan-user", args.user), ("x-pingan-roles", args.roles))  # the test seam (docs/policy.md)
    else:
        raise CommandError("--hub needs --token (yours, with the policy_owner role; 'pingan token issue' stands in)")
    channel = hub_channel.open_channel(args, args.hub)
    return policy_pb2_grpc.PolicyAdminStub(channel), md


def _call_hub(method: Any, request: Any, md: Any) -> Any:
    import grpc

    from pingan.cli import CommandError

    try:
        return method(request, metadata=md, timeout=120)
    except grpc.RpcError as exc:
        raise CommandError(f"{exc.code().name}: {exc.details()}") from None


def _print_version(v: Any) -> None:
    proposed = v.proposed_at.ToDatetime().isoformat(timespec="seconds") if hasattr(v.proposed_at, "ToDatetime") else v.proposed_at.isoformat(timespec="seconds")
    print(f"{v.hash}  {v.state:<10}  by {v.proposed_by}  approved {v.approved_by or '-'}  {proposed}  {v.description}")


def _versions(args: argparse.Namespace) -> int:
    if args.hub:
        from pingan.v1 import policy_pb2

        stub, md = _stub(args)
        resp = _call_hub(stub.ListVersions, policy_pb2.ListVersionsRequest(), md)
        versions = list(resp.versions)
    else:
        versions = _call_db(_admin(args).list_versions, _subject(args))
    for v in versions:
        _print_version(v)
    if not versions:
        print("no policy versions")
    return 0


def _proposal_files(args: argparse.Namespace) -> dict[str, str]:
    from pingan.cli import CommandError

    files: dict[str, str] = {}
    if args.dir:
        files.update(_bundle(args.dir).files)
    for item in args.file:
        path, sep, local = item.partition("=")
        if not sep or not path or not local:
            raise CommandError(f"--file {item!r}: expected PATH=LOCALFILE")
        try:
            files[path] = Path(local).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"--file {item!r}: {exc.strerror}") from None
    if not files and not args.remove:
        raise CommandError("nothing to propose: give --dir, --file or --remove")
    return files


def _propose(args: argparse.Namespace) -> int:
    files = _proposal_files(args)
    if args.hub:
        from pingan.v1 import policy_pb2

        stub, md = _stub(args)
        resp = _call_hub(
            stub.ProposeChange,
            policy_pb2.ProposeChangeRequest(
                files=[policy_pb2.PolicyFile(path=p, content=c) for p, c in sorted(files.items())],
                removed_paths=args.remove, description=args.description, replay_last=max(args.replay, 0),
            ),
            md,
        )
        version, errors, tests = resp.version, list(resp.errors), list(resp.tests)
        replayed, changes = resp.impact.replayed, list(resp.impact.changes)
    else:
        result = _call_db(_admin(args).propose, _subject(args), files, args.remove, args.description, max(args.replay, 0))
        version, errors, tests = result.version, list(result.errors), list(result.tests)
        replayed, changes = result.impact.replayed, list(result.impact.changes)
    _print_version(version)
    for e in errors:
        where = e.path + (f":{e.line}" if e.line else "") + (f":{e.column}" if e.column else "")
        print(f"ERROR {where}: {e.message}")
    for t in tests:
        if not t.passed:
            print(f"FAIL {t.name}: {t.detail}")
    print(f"tests: {sum(t.passed for t in tests)} passed, {sum(not t.passed for t in tests)} failed")
    print(f"impact: {replayed} recorded decisions replayed, {len(changes)} would change")
    group = None
    for c in sorted(changes, key=lambda c: (c.role, c.department, c.dataset, c.request_id)):
        if (c.role, c.department) != group:
            group = (c.role, c.department)
            print(f"  role {c.role} / department {c.department}:")
        print(f"    {c.request_id} {c.dataset}: {c.change} {c.detail}")
    return 0 if version.state == "proposed" else 1


def _approve(args: argparse.Namespace) -> int:
    if args.hub:
        from pingan.v1 import policy_pb2

        stub, md = _stub(args)
        version = _call_hub(stub.ApproveChange, policy_pb2.ApproveChangeRequest(hash=args.hash), md).version
    else:
        version = _call_db(_admin(args).approve, _subject(args), args.hash)
    _print_version(version)
    return 0


def _rollback(args: argparse.Namespace) -> int:
    if args.hub:
        from pingan.v1 import policy_pb2

        stub, md = _stub(args)
        version = _call_hub(stub.Rollback, policy_pb2.RollbackRequest(hash=args.hash), md).version
    else:
        version = _call_db(_admin(args).rollback, _subject(args), args.hash)
    _print_version(version)
    return 0


def _bootstrap(args: argparse.Namespace) -> int:
    bundle = _bundle(args.policies)
    args.engine = "embedded"
    version = _call_db(_admin(args).bootstrap, bundle, args.user)
    _print_version(version)
    return 0


def _assign(args: argparse.Namespace) -> int:
    import csv

    from hub.policy.jurisdiction import RoleAssignment, is_valid_path
    from hub.policy.store import PolicyStore
    from pingan.cli import CommandError

    rows: list[RoleAssignment] = []
    try:
        with open(args.csv, encoding="utf-8", newline="") as fh:
            for lineno, row in enumerate(csv.reader(fh), start=1):
                if not row or row[0].startswith("#"):
                    continue
                if len(row) != 3 or not all(c.strip() for c in row) or not is_valid_path(row[2].strip()):
                    raise CommandError(f"{args.csv}:{lineno}: expected user,role,scope (scope like TH/S03/C07)")
                rows.append(RoleAssignment(*(c.strip() for c in row)))
    except OSError as exc:
        raise CommandError(f"{args.csv}: {exc.strerror}") from None
    n = PolicyStore.connect(args.db).add_assignments(rows)
    print(f"{n} assignments added")
    return 0


