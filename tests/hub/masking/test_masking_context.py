"""MaskingContext.from_config: the [masking] table, errors naming file and key."""

from __future__ import annotations

import pytest

from hub.masking import MaskingContext, MaskingError

KEY = "ab" * 32


def test_reads_the_key() -> None:
    ctx = MaskingContext.from_config({"pseudonym_key_hex": KEY}, source="hub.toml")
    assert ctx.pseudonym_key == bytes.fromhex(KEY)


def test_no_key_means_no_pseudonyms() -> None:
    assert MaskingContext.from_config({}, source="hub.toml").pseudonym_key is None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"pseudonym_key_hex": 5}, "hub.toml: \\[masking\\] pseudonym_key_hex must be a hex string"),
        ({"pseudonym_key_hex": "zz"}, "hub.toml: \\[masking\\] pseudonym_key_hex is not valid hex"),
        ({"pseudonym_key_hex": "ab" * 8}, "at least 32 bytes"),
        ({"pseudonym_key_hex": KEY, "pseudonym_kee": 1}, "hub.toml: unknown key \\[masking\\] pseudonym_kee"),
    ],
)
def test_errors_name_file_and_key(section: dict, message: str) -> None:
    with pytest.raises(MaskingError, match=message) as info:
        MaskingContext.from_config(section, source="hub.toml")
    assert "abab" not in str(info.value)
