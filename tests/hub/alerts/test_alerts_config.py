"""``[alerts] poll_seconds`` in the hub configuration: default, override, errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import load_hub_config
from hub.errors import ConfigError
from pingan.cli.sandbox import Keys, write_hub_config


@pytest.fixture(scope="module")
def hub_toml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("alerts-config")
    return write_hub_config(root, Keys.generate(root / "keys"), {})


def _with(path: Path, tail: str) -> Path:
    out = path.with_name("hub-alerts.toml")
    out.write_text(path.read_text(encoding="utf-8") + tail, encoding="utf-8")
    return out


def test_default_is_fifteen_seconds(hub_toml: Path) -> None:
    assert load_hub_config(hub_toml).alerts.poll_seconds == 15.0


def test_override(hub_toml: Path) -> None:
    assert load_hub_config(_with(hub_toml, "[alerts]\npoll_seconds = 2\n")).alerts.poll_seconds == 2.0


@pytest.mark.parametrize(
    ("tail", "key"),
    [
        ("[alerts]\npoll_seconds = 0\n", "alerts.poll_seconds"),
        ('[alerts]\npoll_seconds = "often"\n', "alerts.poll_seconds"),
        ("[alerts]\npoll_every = 3\n", "alerts.poll_every"),
    ],
    ids=["zero", "not-a-number", "unknown-key"],
)
def test_errors_name_file_and_key(hub_toml: Path, tail: str, key: str) -> None:
    path = _with(hub_toml, tail)
    with pytest.raises(ConfigError) as err:
        load_hub_config(path)
    assert str(path) in str(err.value) and key in str(err.value)
