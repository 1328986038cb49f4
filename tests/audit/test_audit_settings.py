"""[audit] configuration: errors name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_factories import make_access

from audit.checkpoint import NoteSigner
from audit.sealed import Keyring
from audit.settings import AuditSettings, SettingsError


def test_valid_settings_open_a_signing_log(tmp_path: Path) -> None:
    NoteSigner.generate("hub").save(tmp_path / "keys")
    (tmp_path / "keys" / "sealing.json").write_text(Keyring.generate().to_json())
    s = AuditSettings.from_mapping(
        {
            "database_url": f"sqlite:///{tmp_path / 'a.db'}",
            "signing_key": "keys/hub.skey",
            "sealing_keyring": "keys/sealing.json",
            "checkpoint_every_entries": 2,
        },
        "hub.toml",
        tmp_path,
    )
    log = s.open_log()
    log.append_many([make_access(i) for i in range(2)])
    assert [c.size for c in log.checkpoints()] == [2]
    assert s.load_keyring() is not None
    log.close()


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"signing_key": "k"}, "database_url"),
        ({"database_url": "sqlite://", "signing_key": "k", "checkpoint_every_entries": 0}, "checkpoint_every_entries"),
        ({"database_url": "sqlite://", "signing_key": "k", "checkpoint_every_seconds": "soon"}, "checkpoint_every_seconds"),
        ({"database_url": "sqlite://", "signing_key": "k", "colour": "blue"}, "colour"),
        ({"database_url": "", "signing_key": "k"}, "database_url"),
    ],
)
def test_bad_values_name_file_and_key(table: dict[str, object], key: str) -> None:
    with pytest.raises(SettingsError) as info:
        AuditSettings.from_mapping(table, "/etc/pingan/hub.toml")
    assert "/etc/pingan/hub.toml" in str(info.value) and f"[audit] {key}" in str(info.value)


def test_missing_key_file_is_named(tmp_path: Path) -> None:
    s = AuditSettings.from_mapping({"database_url": "sqlite://", "signing_key": "nope.skey"}, "hub.toml", tmp_path)
    with pytest.raises(SettingsError, match="signing_key.*nope.skey"):
        s.open_log()
