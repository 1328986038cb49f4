"""The identifiers of one department record, as read from its database.

This is the input of linkage encoding (``adapters.linkage``): raw values that
never leave the adapter. Values are as stored (un-normalised); normalisation is
the encoder's job (GB 11643 IDs, NFKC names, dates, phones, addresses).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IdentityFields:
    """Raw identifiers of one record; any may be missing (None or empty)."""

    name: str | None = None
    id_number: str | None = None
    other_id: str | None = None
    birth_date: str | None = None
    sex: str | None = None
    phone: str | None = None
    registered_address: str | None = None
    residence_address: str | None = None
    household_number: str | None = None

    # Canonical identity field names an adapter configuration may map columns to.
    FIELD_NAMES = (
        "name",
        "id_number",
        "other_id",
        "birth_date",
        "sex",
        "phone",
        "registered_address",
        "residence_address",
        "household_number",
    )
