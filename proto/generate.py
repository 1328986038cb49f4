"""Generate the Python stubs in ``pingan/v1`` from ``proto/pingan/v1/*.proto``.

The one documented command (run from the repository root)::

    python proto/generate.py            # regenerate and write pingan/v1/
    python proto/generate.py --check    # exit 1 when the committed stubs are stale

Stubs are committed; ``tests/contract/test_stubs_fresh.py`` runs ``--check``.
Generation uses the protoc bundled in grpcio-tools, pinned in pyproject.toml to
the same version as grpcio, so the output is reproducible.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PACKAGE_DIR = Path("pingan") / "v1"
SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def _protoc(out_dir: Path) -> None:
    import grpc_tools
    from grpc_tools import protoc

    include = Path(grpc_tools.__file__).parent / "_proto"
    sources = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / PACKAGE_DIR).glob("*.proto"))
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed; see the messages above")


def _generated(directory: Path) -> dict[str, Path]:
    return {p.name: p for p in directory.iterdir() if p.name.endswith(SUFFIXES)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when stale")
    args = parser.parse_args(argv)
    target = ROOT / PACKAGE_DIR
    with tempfile.TemporaryDirectory() as tmp:
        _protoc(Path(tmp))
        fresh = _generated(Path(tmp) / PACKAGE_DIR)
        current = _generated(target) if target.exists() else {}
        stale = sorted(
            name
            for name in fresh.keys() | current.keys()
            if name not in fresh or name not in current or not filecmp.cmp(fresh[name], current[name], shallow=False)
        )
        if args.check:
            if stale:
                print("stale generated stubs: " + ", ".join(stale), file=sys.stderr)
                print("run: python proto/generate.py", file=sys.stderr)
                return 1
            return 0
        target.mkdir(parents=True, exist_ok=True)
        for name in current.keys() - fresh.keys():
            current[name].unlink()
        for name, path in fresh.items():
            (target / name).write_bytes(path.read_bytes())
        init = target / "__init__.py"
        if not init.exists():
            init.write_text('"""Generated gRPC contract stubs (python proto/generate.py). Never edit by hand."""\n')
    print(f"generated {len(fresh)} files into {PACKAGE_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
