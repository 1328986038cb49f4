"""Each example configuration serves its synthetic database over real gRPC.

A real AdapterServer per department on a loopback port: Describe lists the datasets,
StreamLinkage encodes exactly the ground-truth records, and FetchRecords returns the
exported fields of ground-truth records. First on the generated SQLite files with the
example configurations unchanged, then after ``--copy-to`` into the ``database_url``
fixture (a SQLite file, and PostgreSQL when PINGAN_TEST_PG_URL is set).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from synth_serving import CALLER, SECRET, check_against_truth, config_for, serving, truth_ids

from adapters.synth.database_copy import copy_department
from adapters.synth.departments import all_departments
from adapters.synth.errors import SynthError
from adapters.synth.examples import EXAMPLES_DIR
from adapters.synth.generate import SynthResult
from pingan.v1 import adapter_pb2

DEPARTMENTS = [m.SCHEMA.name for m in all_departments()]


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_example_serves_the_generated_sqlite_file(
    department: str, synth_set: SynthResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINGAN_DATA_DIR", str(synth_set.out_dir))
    monkeypatch.setenv("PINGAN_LINKAGE_SECRET", SECRET)
    # The example as shipped, except that the adapter's own state goes to this test's directory.
    config = config_for(department, tmp_path, f"sqlite:///{synth_set.out_dir}/{department}.db",
                        f"sqlite:///{tmp_path}/state.db")
    assert config.read_text(encoding="utf-8").count("\n") == (EXAMPLES_DIR / f"{department}.toml").read_text(
        encoding="utf-8").count("\n")
    with serving(config) as stub:
        check_against_truth(stub, department, synth_set.out_dir)


def test_copied_departments_serve_from_any_database(
    database_url: str, synth_set: SynthResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINGAN_LINKAGE_SECRET", SECRET)
    for module in all_departments():
        counts = copy_department(synth_set.out_dir, module.SCHEMA, database_url)
        assert counts == synth_set.tables[module.SCHEMA.name]
    for department in DEPARTMENTS:
        config = config_for(department, tmp_path, database_url, f"sqlite:///{tmp_path}/{department}-state.db")
        with serving(config) as stub:
            check_against_truth(stub, department, synth_set.out_dir)


def test_birth_dates_in_every_format_arrive_as_dates(
    synth_set: SynthResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINGAN_LINKAGE_SECRET", SECRET)
    config = config_for("public_security", tmp_path, f"sqlite:///{synth_set.out_dir}/public_security.db",
                        f"sqlite:///{tmp_path}/state.db")
    ids = truth_ids(synth_set.out_dir, "public_security")["population"][:400]
    with serving(config) as stub:
        response = stub.FetchRecords(adapter_pb2.FetchRecordsRequest(
            request_id="synth-dates", purpose="visit",
            fetches=[adapter_pb2.DatasetFetch(dataset="population", local_record_ids=ids, fields=["birth_date"])],
        ), metadata=CALLER, timeout=30)
    kinds = [f.value.WhichOneof("kind") for r in response.records for f in r.fields]
    assert len(kinds) == 400
    assert kinds.count("date_value") == 400


def test_copy_to_a_bad_url_names_the_problem(synth_set: SynthResult) -> None:
    schema = all_departments()[0].SCHEMA
    with pytest.raises(SynthError, match="bad database URL"):
        copy_department(synth_set.out_dir, schema, "nosuchdb://x")
    with pytest.raises(SynthError, match="cannot write to the --copy-to database"):
        copy_department(synth_set.out_dir, schema, "postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(SynthError, match="run `pingan synth` first"):
        copy_department(synth_set.out_dir / "missing", schema, "sqlite://")
