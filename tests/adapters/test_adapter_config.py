"""Start-up checks: every bad configuration is refused with one line naming the file and key."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from adapter_department import CONFIG, create_department, write_config

from adapters.config import load_config, parse_config
from adapters.errors import ConfigError
from adapters.server import AdapterServer


@pytest.fixture
def sqlite_department(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'justice.db'}"
    create_department(url)
    return url, f"sqlite:///{tmp_path / 'justice-adapter.db'}"


def _config(tmp_path: Path, urls: tuple[str, str], edit: Callable[[str], str] | None = None) -> Path:
    return write_config(tmp_path, urls[0], urls[1], edit)


def _refused(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        AdapterServer.from_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    return message


def test_the_example_configuration_loads(tmp_path: Path, sqlite_department: tuple[str, str]) -> None:
    config = load_config(_config(tmp_path, sqlite_department))
    assert config.department == "justice"
    assert [d.name for d in config.datasets] == ["corrections", "visits"]
    corrections = config.dataset("corrections")
    assert corrections is not None
    assert corrections.export[0] == "risk_level"
    assert ("id_number", "sfzh") in corrections.identity
    assert [f.name for f in corrections.exported_fields][:2] == ["birth_date", "risk_level"]


CASES: list[tuple[str, Callable[[str], str], list[str]]] = [
    (
        "malformed TOML",
        lambda t: t.replace('name = "justice"', 'name = "justice'),
        ["malformed TOML", "line 2"],
    ),
    ("unknown top-level key", lambda t: "colour = 1\n" + t, ["colour: unknown key"]),
    (
        "unknown key in a dataset",
        lambda t: t.replace('table = "jzdx"', 'table = "jzdx"\ntabel = "x"'),
        ["datasets[corrections].tabel: unknown key"],
    ),
    (
        "unknown key in a field",
        lambda t: t.replace('grade = "L4"\n', 'grade = "L4"\nmask = "x"\n', 1),
        ["datasets[corrections].fields[notes].mask: unknown key"],
    ),
    (
        "unknown identity field",
        lambda t: t.replace('sex = "xb"', 'gender = "xb"'),
        ["datasets[corrections].identity.gender: unknown key"],
    ),
    (
        "missing key",
        lambda t: t.replace('id_column = "dxbh"\n', ""),
        ["datasets[corrections].id_column: missing required key"],
    ),
    (
        "missing section",
        lambda t: t.replace('[state]\nurl = "', '[statex]\nurl = "'),
        ["statex: unknown key"],
    ),
    (
        "bad SQLAlchemy URL",
        lambda t: t.replace('[database]\nurl = "sqlite', '[database]\nurl = "not a url sqlite'),
        ["database.url: not a valid SQLAlchemy URL"],
    ),
    (
        "unknown dialect",
        lambda t: t.replace('[database]\nurl = "sqlite', '[database]\nurl = "nosuchdb'),
        ["database.url: cannot use"],
    ),
    (
        "unreachable database",
        lambda t: t.replace(
            '[database]\nurl = "', '[database]\nurl = "postgresql+psycopg://nobody@127.0.0.1:1/x" #'
        ),
        ["database.url: cannot connect to postgresql+psycopg://nobody@127.0.0.1:1/x"],
    ),
    (
        "missing SQLite file",
        lambda t: t.replace("justice.db", "justice-typo.db"),
        ["database.url: SQLite file", "justice-typo.db does not exist"],
    ),
    (
        "missing table",
        lambda t: t.replace('table = "jzdx"', 'table = "jzdx_old"'),
        ["datasets[corrections].table: table 'jzdx_old' does not exist"],
    ),
    (
        "failing query",
        lambda t: t.replace("FROM zfjl v", "FROM zfjl_missing v"),
        ["datasets[visits].query: the query fails"],
    ),
    (
        "mapped identity column missing",
        lambda t: t.replace('name = "xm"', 'name = "xingming"'),
        ["datasets[corrections].identity.name: column 'xingming' does not exist in table 'jzdx'"],
    ),
    (
        "field column missing",
        lambda t: t.replace('column = "fxdj"', 'column = "fxdj2"'),
        ["datasets[corrections].fields[risk_level].column: column 'fxdj2' does not exist"],
    ),
    (
        "query column missing",
        lambda t: t.replace('column = "zfnr"', 'column = "zfnr2"'),
        ["datasets[visits].fields[visit_notes].column: column 'zfnr2' does not exist in the query result"],
    ),
    (
        "unclassified column",
        lambda t: t.replace('unexposed = ["nbbz", "sdlx"]', 'unexposed = ["sdlx"]'),
        ["datasets[corrections]: column 'nbbz' of table 'jzdx' is not accounted for"],
    ),
    (
        "unclassified query column",
        lambda t: t.replace("v.zfnr, v.gxsj", "v.zfnr, v.zfnr AS extra, v.gxsj"),
        ["datasets[visits]: column 'extra' of the query result is not accounted for"],
    ),
    (
        "unexposed column declared as a field",
        lambda t: t.replace('unexposed = ["nbbz", "sdlx"]', 'unexposed = ["nbbz", "sdlx", "bz"]'),
        ["datasets[corrections].unexposed: column 'bz' is listed as unexposed but declared as field 'notes'"],
    ),
    (
        "bad grade",
        lambda t: t.replace('grade = "L2"', 'grade = "L5"', 1),
        ["datasets[corrections].fields[risk_level].grade: unknown grade 'L5'"],
    ),
    (
        "bad category",
        lambda t: t.replace('category = "risk"', 'category = "danger"'),
        ["datasets[corrections].fields[risk_level].category: unknown category 'danger'"],
    ),
    (
        "bad type",
        lambda t: t.replace('type = "integer"', 'type = "int"', 1),
        ["datasets[corrections].fields[sessions_missed].type: unknown type 'int'"],
    ),
    (
        "bad group name",
        lambda t: t.replace('groups = ["community_corrections"]', 'groups = ["parolee"]'),
        ["datasets[corrections].groups: unknown sensitive group 'parolee'"],
    ),
    (
        "bad group-rule group",
        lambda t: t.replace('group = "drug_involved"', 'group = "drugs"'),
        ["datasets[corrections].group_rules[0].group: unknown sensitive group 'drugs'"],
    ),
    (
        "duplicate dataset",
        lambda t: t.replace('name = "visits"', 'name = "corrections"'),
        ["datasets[1].name: duplicate dataset name 'corrections'"],
    ),
    (
        "export not declared",
        lambda t: t.replace('export = ["risk_level"', 'export = ["risk_score", "risk_level"'),
        ["datasets[corrections].export: 'risk_score' is not a declared field"],
    ),
    (
        "unset environment variable",
        lambda t: t.replace('display_name = "司法局"', 'display_name = "${PINGAN_NO_SUCH_VAR}"'),
        ["department.display_name: environment variable PINGAN_NO_SUCH_VAR is not set"],
    ),
    (
        "both table and query",
        lambda t: t.replace('table = "jzdx"', 'table = "jzdx"\nquery = "SELECT 1"'),
        ["datasets[corrections].table: set exactly one of table and query"],
    ),
    (
        "wrong value type",
        lambda t: t.replace("max_records_per_request = 50", 'max_records_per_request = "50"'),
        ["server.max_records_per_request: must be an integer"],
    ),
    (
        "bad listen address",
        lambda t: t.replace('listen = "127.0.0.1:0"', 'listen = "localhost"'),
        ["server.listen: 'localhost' is not host:port"],
    ),
    (
        "plaintext beyond this machine not asked for",
        lambda t: t.replace('listen = "127.0.0.1:0"', 'listen = "0.0.0.0:0"'),
        ["server.listen: '0.0.0.0:0' is reachable from other machines", "add [tls]", "server.plaintext = true"],
    ),
    (
        "plaintext not a boolean",
        lambda t: t.replace('listen = "127.0.0.1:0"', 'listen = "127.0.0.1:0"\nplaintext = "yes"'),
        ["server.plaintext: must be true or false"],
    ),
    (
        "bad department name",
        lambda t: t.replace('name = "justice"', 'name = "Justice Bureau"'),
        ["department.name: department name 'Justice Bureau' must match"],
    ),
    (
        "no secret source",
        lambda t: t.replace("secret_file = ", "# secret_file = "),
        ["linkage.secret_env: set exactly one of"],
    ),
    (
        "missing secret file",
        lambda t: t.replace('linkage.key"', 'no-such.key"'),
        ["linkage.secret_file: linkage secret file", "does not exist"],
    ),
]


@pytest.mark.parametrize(("edit", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_configuration_is_refused_naming_file_and_key(
    tmp_path: Path, sqlite_department: tuple[str, str], edit: Callable[[str], str], expected: list[str]
) -> None:
    message = _refused(_config(tmp_path, sqlite_department, edit))
    for fragment in expected:
        assert fragment in message


def test_the_edits_really_change_the_template() -> None:
    # guards the table above: an edit that no longer matches the template would test nothing
    text = CONFIG.format(
        database_url="sqlite:////d/justice.db", state_url="sqlite:////d/s.db", secret_file="/d/linkage.key"
    )
    for name, edit, _ in CASES:
        assert edit(text) != text, name


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file does not exist"):
        parse_config(tmp_path / "nope.toml")


def test_parse_does_not_touch_the_database(tmp_path: Path) -> None:
    path = write_config(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/x", "sqlite:///:memory:")
    assert parse_config(path).database_url.endswith("127.0.0.1:1/x")


def test_environment_variables_are_expanded(
    tmp_path: Path, sqlite_department: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINGAN_TEST_DATA_DIR", str(tmp_path))
    path = _config(tmp_path, ("sqlite:///${PINGAN_TEST_DATA_DIR}/justice.db", sqlite_department[1]))
    assert load_config(path).database_url == sqlite_department[0]


def _pingan(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys\nfrom pingan.cli import main\nraise SystemExit(main(sys.argv[1:]))\n"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def _cli_available() -> bool:
    try:
        from pingan.cli import build_parser

        build_parser()
    except ImportError:
        return False
    return True


cli = pytest.mark.skipif(
    not _cli_available(), reason="another command group of `pingan` is not importable yet"
)


@cli
def test_serve_refuses_to_start_with_one_line_and_exit_code_2(
    tmp_path: Path, sqlite_department: tuple[str, str]
) -> None:
    path = _config(
        tmp_path,
        sqlite_department,
        lambda t: t.replace('unexposed = ["nbbz", "sdlx"]', 'unexposed = ["sdlx"]'),
    )
    result = _pingan("adapter", "serve", "--config", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and "datasets[corrections]" in lines[0] and "'nbbz'" in lines[0]


@cli
def test_serve_refuses_malformed_toml(tmp_path: Path, sqlite_department: tuple[str, str]) -> None:
    path = _config(tmp_path, sqlite_department, lambda t: t + "\n[[datasets]\n")
    result = _pingan("adapter", "serve", "--config", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{path}: malformed TOML" in result.stderr


@cli
def test_check_prints_a_summary(tmp_path: Path, sqlite_department: tuple[str, str]) -> None:
    result = _pingan("adapter", "check", "--config", str(_config(tmp_path, sqlite_department)))
    assert result.returncode == 0, result.stderr
    assert "OK - department justice" in result.stdout
    assert "corrections: table jzdx; 7 fields declared, 6 exported" in result.stdout
    assert "visits: query" in result.stdout


@cli
def test_serve_answers_and_stops_cleanly_on_sigterm(
    tmp_path: Path, sqlite_department: tuple[str, str]
) -> None:
    import signal

    import grpc

    from pingan.v1 import adapter_pb2, adapter_pb2_grpc

    code = "import sys\nfrom pingan.cli import main\nraise SystemExit(main(sys.argv[1:]))\n"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "adapter",
            "serve",
            "--config",
            str(_config(tmp_path, sqlite_department)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("adapter justice serving on 127.0.0.1:"), line
        with grpc.insecure_channel(line.rsplit(" ", 1)[1].strip()) as channel:
            described = adapter_pb2_grpc.DepartmentAdapterStub(channel).Describe(
                adapter_pb2.DescribeRequest(), timeout=30
            )
        assert described.department == "justice"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert proc.stderr is not None
        logged = proc.stderr.read()
        assert "Traceback" not in logged
        assert "long-lived objects kept out of full collections" in logged  # pingan/heap.py
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_second_adapter_on_a_port_in_use_is_refused(tmp_path: Path, sqlite_department: tuple[str, str]) -> None:
    """gRPC sets SO_REUSEPORT unless told not to: a second adapter on the same port would start
    and silently take part of the hub's calls. It must refuse, naming the key."""
    first = AdapterServer.from_config(_config(tmp_path, sqlite_department))
    port = first.start()
    try:
        taken = tmp_path / "second"
        taken.mkdir()
        same_port = f'listen = "127.0.0.1:{port}"'
        path = _config(taken, sqlite_department, lambda t: t.replace('listen = "127.0.0.1:0"', same_port))
        second = AdapterServer.from_config(path)
        with pytest.raises(ConfigError) as info:
            second.start()
        assert str(info.value).startswith(f"{path}: server.listen: cannot listen on 127.0.0.1:{port}")
    finally:
        first.stop(0)


def test_plaintext_beyond_this_machine_when_asked_for(tmp_path: Path, sqlite_department: tuple[str, str]) -> None:
    """Security on by default: without [tls] only a loopback address, unless the config says so."""
    for listen in ("0.0.0.0:0", "[::]:0", "10.1.2.3:50051"):
        path = _config(
            tmp_path, sqlite_department,
            lambda t, listen=listen: t.replace('listen = "127.0.0.1:0"', f'listen = "{listen}"\nplaintext = true'),
        )  # fmt: skip
        config = load_config(path)
        assert config.server.listen == listen and config.server.plaintext
    for listen in ("127.0.0.1:0", "[::1]:0", "localhost:0"):
        path = _config(tmp_path, sqlite_department, lambda t, listen=listen: t.replace('"127.0.0.1:0"', f'"{listen}"'))
        assert not load_config(path).server.plaintext
