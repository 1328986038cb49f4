"""[policy] policies_dir seeds the first start only: the hub says so when it differs
from the active version (hub/policy/seed_drift.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.policy.bundle import PolicyBundle
from hub.policy.seed_drift import warn_if_policies_dir_ignored
from hub.policy.store import ACTIVE, PolicyStore

SEED = {
    "authz.rego": "package pingan.authz\n\ndefault allow := false\n",
    "casbin/policy.csv": "p, grid_worker, .*, read, allow\n",
}


def _write(directory: Path, files: dict[str, str]) -> Path:
    for rel, content in files.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return directory


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[PolicyStore]:
    s = PolicyStore.connect(f"sqlite:///{tmp_path / 'hub.db'}")
    yield s
    s.engine.dispose()


@pytest.fixture()
def seeded(store: PolicyStore, tmp_path: Path) -> Path:
    """A store whose active version is the bundle of the returned directory (as after the first start)."""
    directory = _write(tmp_path / "policies", SEED)
    store.add_version(
        PolicyBundle.from_directory(directory), state=ACTIVE, by="hub-bootstrap", description="", report={}
    )
    return directory


def test_silent_when_the_directory_is_the_active_version(
    store: PolicyStore, seeded: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="hub.policy.seed_drift"):
        assert warn_if_policies_dir_ignored(store, seeded) is None
    assert caplog.records == []


def test_silent_before_any_version_is_active(store: PolicyStore, tmp_path: Path) -> None:
    assert warn_if_policies_dir_ignored(store, _write(tmp_path / "p", SEED)) is None


def test_warns_when_the_directory_was_edited(
    store: PolicyStore, seeded: Path, caplog: pytest.LogCaptureFixture
) -> None:
    active = store.active()
    assert active is not None
    _write(seeded, {"authz.rego": SEED["authz.rego"] + "# stricter\n"})
    edited = PolicyBundle.from_directory(seeded).content_hash
    with caplog.at_level(logging.INFO, logger="hub.policy.seed_drift"):
        message = warn_if_policies_dir_ignored(store, seeded)
    assert message is not None
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == message
    assert edited[:12] in message and active.content_hash[:12] in message
    assert "IGNORED" in message and "pingan policy propose" in message and str(seeded) in message


def test_warns_for_another_directory(
    store: PolicyStore, seeded: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = _write(tmp_path / "other", {**SEED, "extra.rego": "package pingan.extra\n"})
    with caplog.at_level(logging.INFO, logger="hub.policy.seed_drift"):
        assert warn_if_policies_dir_ignored(store, other) is not None
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_only_info_when_the_directory_is_the_superseded_seed(
    store: PolicyStore, seeded: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The normal state after approved proposals: the directory still holds the first version."""
    newer = PolicyBundle.from_directory(seeded).changed({"extra.rego": "package pingan.extra\n"})
    store.add_version(newer, state=ACTIVE, by="bob", description="approved change", report={})
    with caplog.at_level(logging.INFO, logger="hub.policy.seed_drift"):
        message = warn_if_policies_dir_ignored(store, seeded)
    assert message is not None and "superseded" in message
    assert [r.levelno for r in caplog.records] == [logging.INFO]


def test_unreadable_directory_warns_and_does_not_raise(
    store: PolicyStore, seeded: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with caplog.at_level(logging.INFO, logger="hub.policy.seed_drift"):
        message = warn_if_policies_dir_ignored(store, empty)
    assert message is not None and "cannot be read" in message
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_none_means_the_shipped_policies(
    store: PolicyStore, seeded: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No policies_dir configured: compared with the shipped default, which differs from SEED here."""
    with caplog.at_level(logging.INFO, logger="hub.policy.seed_drift"):
        message = warn_if_policies_dir_ignored(store, None)
    assert message is not None and "policies" in message
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
