"""Scanning the hub's storage for raw identifiers (REQUIREMENTS.md 7).

Collects every name, ID number, phone and address from the synthetic department databases,
in the forms a leak could take (as stored, normalised, hex, base64, unsalted
digests), and searches every cell of every table of a database for them.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa

from adapters.config import parse_config
from adapters.linkage.normalize import normalize_id_number, normalize_name, normalize_phone

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "adapters" / "examples").glob("*.toml"))


# Besides each dataset's identity columns: what a person is reached or found by, of anyone
# a record names (a guardian's name and phone, an emergency contact, a victim's name and
# phone, every address), read from the fields' classification, and every *_name field.
PERSONAL_CATEGORIES = frozenset({"contact", "address"})
# Contact fields holding a kinship word (父亲, 母亲) and a school class: not personal data, and a few characters
# that may well appear elsewhere.
_NOT_PERSONAL = frozenset({"guardian_relation", "relation_to_head", "emergency_relation", "class_name"})


def raw_identifiers(synth_dir: Path) -> set[str]:
    """Every name, ID number and phone stored in the department databases (the identity
    columns), and every value of a contact or address field (REQUIREMENTS.md 7: no raw ID
    number, name, phone or address in the hub)."""
    values: set[str] = set()
    for path in EXAMPLES:
        cfg = parse_config(path)
        engine = sa.create_engine(f"sqlite:///{synth_dir / (cfg.department + '.db')}")
        with engine.connect() as conn:
            for ds in cfg.datasets:
                cols = {col for field, col in ds.identity if field in ("name", "id_number", "phone")}
                cols |= {
                    f.column or f.name
                    for f in ds.fields
                    if f.type == "string"
                    and (f.category in PERSONAL_CATEGORIES or f.name.endswith("_name"))
                    and f.name not in _NOT_PERSONAL
                }
                if not cols or not ds.table:
                    continue
                listed = ", ".join(f'"{c}"' for c in sorted(cols))
                rows = conn.execute(sa.text(f'SELECT {listed} FROM "{ds.table}"')).all()
                for row in rows:
                    values.update(str(v).strip() for v in row if v is not None and len(str(v).strip()) >= 2)
        engine.dispose()
    return values


def needles(value: str) -> set[str]:
    forms = {value}
    if (idn := normalize_id_number(value)) is not None:
        forms.add(idn.value)
        forms.add(idn.value.upper())
    if (phone := normalize_phone(value)) is not None:
        forms.add(phone.value)
    if (name := normalize_name(value)) is not None and len(name) >= 2:
        forms.add(name)
    return {f for f in forms if len(f) >= 2}


def encodings(text: str) -> tuple[set[str], set[bytes]]:
    raw = text.encode("utf-8")
    as_text = {text, raw.hex(), base64.b64encode(raw).decode()}
    as_bytes = {raw}
    for algo in ("md5", "sha1", "sha256"):
        digest = hashlib.new(algo, raw).digest()
        as_text.add(digest.hex())
        as_bytes.add(digest)
    return as_text, as_bytes


def database_contents(engine: sa.Engine) -> tuple[str, bytes]:
    """All cells of all tables: text cells joined, binary cells joined."""
    texts: list[str] = []
    blobs: list[bytes] = []
    meta = sa.MetaData()
    meta.reflect(engine)
    assert meta.sorted_tables, "nothing to scan: no tables"
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(sa.select(table)):
                for cell in row:
                    if isinstance(cell, (bytes, bytearray, memoryview)):
                        blobs.append(bytes(cell))
                    elif cell is not None:
                        texts.append(str(cell))
    return "\x00".join(texts), b"\x00".join(blobs)


def leaks(values: Iterable[str], text: str, blob: bytes) -> list[str]:
    """The raw values (by their first characters only) found in text or blob, in any form."""
    found = []
    for value in values:
        for needle in needles(value):
            as_text, as_bytes = encodings(needle)
            if any(t in text for t in as_text) or any(b in blob for b in as_bytes):
                found.append(value[:2] + "…")
                break
    return found
