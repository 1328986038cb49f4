"""What an obligation may need besides the value: keys, the reference date, known names."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.masking.errors import MaskingError

#: Shortest pseudonym key accepted (bytes); HMAC-SHA256 keys below 32 bytes weaken it (RFC 2104 s3).
MIN_PSEUDONYM_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class MaskingContext:
    """Per-request inputs of the operators.

    ``pseudonym_key`` keys :func:`keyed_pseudonym` (from configuration, never from the
    request); ``reference_date`` is "today" for ``age_band`` (injectable for tests);
    ``known_names`` are the names the profile itself holds (the person, household
    members, helpers) so free-text masking finds them even where heuristics would not.
    """

    pseudonym_key: bytes | None = None
    reference_date: _dt.date | None = None
    known_names: tuple[str, ...] = field(default=())

    def today(self) -> _dt.date:
        return self.reference_date or _dt.date.today()

    @classmethod
    def from_config(cls, section: Mapping[str, object], *, source: str) -> MaskingContext:
        """Build from the ``[masking]`` table of a TOML file.

        Keys: ``pseudonym_key_hex`` (hex string, at least 32 bytes). Errors name the
        file (``source``) and the key, never the key material.
        """
        raw = section.get("pseudonym_key_hex")
        if raw is None:
            return cls()
        if not isinstance(raw, str):
            raise MaskingError(f"{source}: [masking] pseudonym_key_hex must be a hex string")
        try:
            key = bytes.fromhex(raw)
        except ValueError:
            raise MaskingError(f"{source}: [masking] pseudonym_key_hex is not valid hex") from None
        if len(key) < MIN_PSEUDONYM_KEY_BYTES:
            raise MaskingError(
                f"{source}: [masking] pseudonym_key_hex must be at least "
                f"{MIN_PSEUDONYM_KEY_BYTES} bytes ({2 * MIN_PSEUDONYM_KEY_BYTES} hex digits)"
            )
        unknown = sorted(set(section) - {"pseudonym_key_hex"})
        if unknown:
            raise MaskingError(f"{source}: unknown key [masking] {unknown[0]}")
        return cls(pseudonym_key=key)
