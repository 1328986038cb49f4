"""The adapter as a witness of the hub's audit log, against a real adapter and a real AuditLog.

Checkpoints and consistency proofs come from :class:`audit.store.AuditLog` with a
real :class:`audit.checkpoint.NoteSigner`; the adapter runs on loopback with its
state on SQLite and, when configured, PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from adapter_department import write_config
from adapter_harness import RunningAdapter, start_adapter

import pingan.cli
from adapters.config import parse_config
from adapters.errors import ConfigError
from adapters.server import AdapterServer
from adapters.state import StateStore
from adapters.witness import SIZE_METADATA_KEY
from audit.checkpoint import NoteSigner
from audit.entry import AuthFailureEntry, now_rfc3339
from audit.store import AuditLog, StoredCheckpoint
from pingan.v1 import adapter_pb2

ORIGIN = "pingan-hub/audit"
FETCH = adapter_pb2.DatasetFetch(dataset="corrections", local_record_ids=["1001", "1002"], fields=["risk_level"])


class Hub:
    """A hub's audit log: append entries, sign checkpoints, prove consistency."""

    def __init__(self, path: Path, signer: NoteSigner, tag: str) -> None:
        self.log = AuditLog(f"sqlite:///{path}", origin=ORIGIN, signer=signer)
        self.tag = tag

    def grow(self, count: int) -> StoredCheckpoint:
        start = self.log.size()
        self.log.append_many(
            [
                AuthFailureEntry(request_id=f"{self.tag}-{n}", time=now_rfc3339(), method="/t", reason=self.tag)
                for n in range(start, start + count)
            ]
        )
        return self.log.checkpoint()

    def proof(self, size1: int, size2: int) -> list[bytes]:
        return self.log.consistency_proof(size1, size2)


def witness(
    cp: StoredCheckpoint | str, entry: int | None = None, proof: list[bytes] | None = None, from_size: int = 0
) -> adapter_pb2.AuditWitness:
    note = cp if isinstance(cp, str) else cp.note
    index = entry if entry is not None else (cp.size if isinstance(cp, StoredCheckpoint) else 0)
    return adapter_pb2.AuditWitness(
        checkpoint=note, entry_index=index, consistency_proof=proof or [], proof_from_size=from_size
    )


def request(w: adapter_pb2.AuditWitness | None, request_id: str = "req-w") -> adapter_pb2.FetchRecordsRequest:
    return adapter_pb2.FetchRecordsRequest(request_id=request_id, purpose="visit", fetches=[FETCH], witness=w)


def fetch(adapter: RunningAdapter, w: adapter_pb2.AuditWitness | None) -> adapter_pb2.FetchRecordsResponse:
    return adapter.stub.FetchRecords(request(w), timeout=30)


def refused(adapter: RunningAdapter, w: adapter_pb2.AuditWitness | None, *needles: str) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        adapter.stub.FetchRecords(request(w, "req-refused"), timeout=30)
    error = info.value
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error.details()
    for needle in needles:
        assert needle in (error.details() or ""), error.details()
    assert "Traceback" not in (error.details() or "")
    rows = StateStore(adapter.server.state.engine).access_entries()
    last = rows[-1]
    assert last["request_id"] == "req-refused" and last["outcome"] == "FAILED_PRECONDITION"
    assert last["record_count"] == 0 and last["dataset"] == "corrections"
    return error


def trailing(error: grpc.RpcError) -> dict[str, str]:
    return {k: v for k, v in (error.trailing_metadata() or ())}


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.generate("pingan-hub")


@pytest.fixture
def key_file(tmp_path: Path, signer: NoteSigner) -> Path:
    _, vkey = signer.save(tmp_path / "hub-keys")
    return vkey


def with_witness(key: Path, extra: str = "") -> Callable[[str], str]:
    return lambda text: text + f'\n[witness]\nhub_key_file = "{key}"\n{extra}'


@pytest.fixture
def witness_adapter(
    tmp_path: Path, department_url: str, state_url: str, key_file: Path
) -> Iterator[RunningAdapter]:
    path = write_config(tmp_path, department_url, state_url, with_witness(key_file, "max_lag_entries = 50\n"))
    running = start_adapter(path, department_url, state_url)
    try:
        yield running
    finally:
        running.channel.close()
        running.server.stop(grace=None)


@pytest.fixture
def hub(tmp_path: Path, signer: NoteSigner) -> Hub:
    return Hub(tmp_path / "hub-audit.db", signer, "real")


def stored_size(adapter: RunningAdapter) -> int | None:
    witness_ = adapter.server.servicer.witness
    assert witness_ is not None
    cp = witness_.stored()
    return None if cp is None else cp.size


def test_first_checkpoint_is_trusted_then_consistent_ones_advance(witness_adapter: RunningAdapter, hub: Hub) -> None:
    first = hub.grow(5)
    response = fetch(witness_adapter, witness(first, entry=5))
    assert [r.provenance.local_record_id for r in response.records] == ["1001", "1002"]
    assert stored_size(witness_adapter) == 5
    # the same checkpoint again needs no proof
    fetch(witness_adapter, witness(first, entry=6))
    second = hub.grow(8)
    fetch(witness_adapter, witness(second, entry=13, proof=hub.proof(5, 13), from_size=5))
    assert stored_size(witness_adapter) == 13
    rows = StateStore(witness_adapter.server.state.engine).access_entries()
    assert [(r["outcome"], r["detail"]) for r in rows] == [
        ("OK", "witness entry=5 checkpoint=5"),
        ("OK", "witness entry=6 checkpoint=5"),
        ("OK", "witness entry=13 checkpoint=13"),
    ]


def test_missing_or_wrong_proof_start_answers_the_size_to_prove_from(
    witness_adapter: RunningAdapter, hub: Hub
) -> None:
    fetch(witness_adapter, witness(hub.grow(3)))
    later = hub.grow(4)
    error = refused(witness_adapter, witness(later), "need a consistency proof from size 3")
    assert trailing(error)[SIZE_METADATA_KEY] == "3"
    error = refused(witness_adapter, witness(later, proof=hub.proof(2, 7), from_size=2), "from size 3")
    assert trailing(error)[SIZE_METADATA_KEY] == "3"
    assert stored_size(witness_adapter) == 3
    # the hub retries with the proof the trailer asked for
    fetch(witness_adapter, witness(later, proof=hub.proof(3, 7), from_size=3))
    assert stored_size(witness_adapter) == 7


def test_rolled_back_checkpoint_is_refused(witness_adapter: RunningAdapter, hub: Hub) -> None:
    old = hub.grow(4)
    new = hub.grow(6)
    fetch(witness_adapter, witness(old))
    fetch(witness_adapter, witness(new, proof=hub.proof(4, 10), from_size=4))
    error = refused(witness_adapter, witness(old), "size 4 < 10", "rolled back")
    assert SIZE_METADATA_KEY not in trailing(error)
    rows = StateStore(witness_adapter.server.state.engine).access_entries()
    assert rows[-1]["detail"].startswith("witness entry=4 checkpoint=4: checkpoint older than one already seen")


def test_forked_log_is_refused(tmp_path: Path, witness_adapter: RunningAdapter, hub: Hub, signer: NoteSigner) -> None:
    fetch(witness_adapter, witness(hub.grow(6)))
    fork = Hub(tmp_path / "fork.db", signer, "fork").grow(6)
    refused(witness_adapter, witness(fork), "two different checkpoints of size 6", "forked")
    assert stored_size(witness_adapter) == 6


def test_rewritten_log_is_refused(tmp_path: Path, witness_adapter: RunningAdapter, hub: Hub, signer: NoteSigner) -> None:
    fetch(witness_adapter, witness(hub.grow(5)))
    rewritten = Hub(tmp_path / "rewritten.db", signer, "rewritten")
    larger = rewritten.grow(9)
    refused(
        witness_adapter,
        witness(larger, proof=rewritten.proof(5, 9), from_size=5),
        "not consistent with the one seen at size 5",
        "rewritten",
    )
    assert stored_size(witness_adapter) == 5
    # a proof from the real log does not help either
    refused(witness_adapter, witness(larger, proof=hub.proof(2, 5), from_size=5), "rewritten")


def test_forged_or_foreign_checkpoints_are_refused(witness_adapter: RunningAdapter, hub: Hub, tmp_path: Path) -> None:
    forged = Hub(tmp_path / "forged.db", NoteSigner.generate("pingan-hub"), "forged").grow(3)
    refused(witness_adapter, witness(forged), "the hub's checkpoint does not verify", "no signature by key")
    real = hub.grow(3)
    tampered = real.note.replace("\n3\n", "\n4\n", 1)
    refused(witness_adapter, witness(tampered, entry=3), "does not verify")
    refused(witness_adapter, witness("not a signed note", entry=1), "does not verify")
    other = AuditLog(f"sqlite:///{tmp_path / 'other.db'}", origin="someone-else/audit", signer=hub.log.signer)
    other.append(AuthFailureEntry(request_id="o", time=now_rfc3339(), method="/t", reason="o"))
    refused(witness_adapter, witness(other.checkpoint()), "does not verify", "not the expected 'pingan-hub/audit'")
    assert stored_size(witness_adapter) is None  # nothing unverified was trusted
    fetch(witness_adapter, witness(real))


def test_entry_beyond_the_lag_window_is_refused(witness_adapter: RunningAdapter, hub: Hub) -> None:
    cp = hub.grow(10)
    fetch(witness_adapter, witness(cp, entry=59))  # 10 + max_lag_entries (50) - 1
    refused(witness_adapter, witness(cp, entry=60), "checkpoint too old for entry 60")
    rows = StateStore(witness_adapter.server.state.engine).access_entries()
    assert rows[-1]["detail"].startswith("witness entry=60 checkpoint=10: checkpoint too old")


def test_fetch_without_a_witness_is_refused_but_other_calls_are_not(witness_adapter: RunningAdapter) -> None:
    refused(witness_adapter, None, "must carry witness.checkpoint")
    refused(witness_adapter, adapter_pb2.AuditWitness(entry_index=3), "must carry witness.checkpoint")
    assert witness_adapter.stub.Describe(adapter_pb2.DescribeRequest(), timeout=30).department == "justice"


def test_the_stored_checkpoint_survives_a_restart(
    tmp_path: Path, department_url: str, state_url: str, key_file: Path, hub: Hub
) -> None:
    path = write_config(tmp_path, department_url, state_url, with_witness(key_file))
    first = start_adapter(path, department_url, state_url)
    try:
        fetch(first, witness(hub.grow(8)))
    finally:
        first.channel.close()
        first.server.stop(grace=None)
    second = start_adapter(path, department_url, state_url)
    try:
        fork = Hub(tmp_path / "fork.db", hub.log.signer, "fork").grow(8)  # type: ignore[arg-type]
        refused(second, witness(fork), "forked")
    finally:
        second.channel.close()
        second.server.stop(grace=None)


def test_without_witness_section_the_witness_is_ignored(adapter: RunningAdapter) -> None:
    assert adapter.server.servicer.witness is None
    response = fetch(adapter, adapter_pb2.AuditWitness(checkpoint="garbage", entry_index=10**9))
    assert len(response.records) == 2
    assert fetch(adapter, None).records
    rows = StateStore(adapter.server.state.engine).access_entries()
    assert [r["detail"] for r in rows] == ["", ""]


@pytest.mark.parametrize(
    ("extra", "key", "needle"),
    [
        ('origin = ""\n', "witness.origin", "non-empty"),
        ("max_lag_entries = 0\n", "witness.max_lag_entries", "between 1 and"),
        ('max_lag_entries = "ten"\n', "witness.max_lag_entries", "must be an integer"),
        ("max_age = 3\n", "witness.max_age", "unknown key"),
    ],
)
def test_bad_witness_settings_name_file_and_key(
    tmp_path: Path, key_file: Path, extra: str, key: str, needle: str
) -> None:
    path = write_config(tmp_path, "sqlite:///unused.db", "sqlite:///unused-state.db", with_witness(key_file, extra))
    with pytest.raises(ConfigError) as info:
        parse_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert needle in message


def test_bad_hub_key_files_name_file_and_key(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.vkey"
    path = write_config(tmp_path, "sqlite:///u.db", "sqlite:///s.db", with_witness(missing))
    with pytest.raises(ConfigError, match=rf"^{path}: witness.hub_key_file: file .*nowhere.vkey does not exist"):
        parse_config(path)
    signer_key = tmp_path / "hub.skey"
    signer_key.write_text(NoteSigner.generate("hub").to_skey() + "\n", encoding="ascii")
    path = write_config(tmp_path, "sqlite:///u.db", "sqlite:///s.db", with_witness(signer_key))
    with pytest.raises(ConfigError, match=rf"^{path}: witness.hub_key_file: .*hub.skey: .*expected the hub's checkpoint verifier key"):
        parse_config(path)
    path = write_config(tmp_path, "sqlite:///u.db", "sqlite:///s.db", lambda t: t + "\n[witness]\norigin = \"x\"\n")
    with pytest.raises(ConfigError, match=rf"^{path}: witness.hub_key_file: missing required key"):
        parse_config(path)


def test_relative_key_path_and_defaults(tmp_path: Path, key_file: Path) -> None:
    relative = key_file.relative_to(tmp_path)
    config = parse_config(write_config(tmp_path, "sqlite:///u.db", "sqlite:///s.db", with_witness(relative)))
    assert config.witness is not None
    assert config.witness.hub_key_file == key_file.resolve()
    assert config.witness.origin == ORIGIN and config.witness.max_lag_entries == 10_000
    assert parse_config(write_config(tmp_path, "sqlite:///u.db", "sqlite:///s.db")).witness is None


def test_start_refuses_a_key_file_that_turned_bad(
    tmp_path: Path, department_url: str, state_url: str, key_file: Path
) -> None:
    path = write_config(tmp_path, department_url, state_url, with_witness(key_file))
    config = parse_config(path)
    key_file.write_text("garbage\n", encoding="ascii")
    with pytest.raises(ConfigError, match=rf"^{path}: witness.hub_key_file: "):
        AdapterServer.from_config(config.path)


def test_check_command_says_whether_witness_checks_are_on(
    tmp_path: Path, department_url: str, state_url: str, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    off = write_config(tmp_path, department_url, state_url)
    assert pingan.cli.main(["adapter", "check", "--config", str(off)]) == 0
    assert "witness checks: off" in capsys.readouterr().out
    on = write_config(tmp_path, department_url, state_url, with_witness(key_file, "max_lag_entries = 77\n"))
    assert pingan.cli.main(["adapter", "check", "--config", str(on)]) == 0
    out = capsys.readouterr().out
    assert "witness checks: on" in out and "origin 'pingan-hub/audit'" in out and "max lag 77 entries" in out


def test_concurrent_requests_with_the_same_checkpoints_all_pass(witness_adapter: RunningAdapter, hub: Hub) -> None:
    from concurrent.futures import ThreadPoolExecutor

    first = hub.grow(4)
    second = hub.grow(4)
    proof = hub.proof(4, 8)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: fetch(witness_adapter, witness(first)), range(6)))
        assert all(len(a.records) == 2 for a in answers)
        answers = list(pool.map(lambda _: fetch(witness_adapter, witness(second, proof=proof, from_size=4)), range(6)))
        assert all(len(a.records) == 2 for a in answers)
    assert stored_size(witness_adapter) == 8


def test_a_remembered_note_never_vouches_for_an_altered_one(witness_adapter: RunningAdapter, hub: Hub) -> None:
    """The adapter remembers notes that verified (the same note comes with every fetch of a
    profile); a copy differing in any byte is checked again and refused."""
    real = hub.grow(3)
    fetch(witness_adapter, witness(real))
    fetch(witness_adapter, witness(real))  # answered from the remembered verification
    refused(witness_adapter, witness(real.note.replace("\n3\n", "\n4\n", 1), entry=3), "does not verify")
    signature_line = real.note.rstrip("\n").rsplit("\n", 1)[1]
    flipped = signature_line[:-3] + ("A" if signature_line[-3] != "A" else "B") + signature_line[-2:]
    refused(witness_adapter, witness(real.note.replace(signature_line, flipped)), "does not verify")
    assert stored_size(witness_adapter) == 3
