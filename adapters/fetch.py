"""FetchRecords: validate a request against the configuration, read, and build typed records.

Validation answers with the status a caller can act on (issue 2, "Bad input"):
an empty request, too many records or fields -> INVALID_ARGUMENT with the
limit; an unknown dataset or undeclared field -> NOT_FOUND naming it; a declared
field outside the export allowlist -> PERMISSION_DENIED. Only the columns of the
requested, exported fields are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.model import AdapterConfig, DatasetConfig, FieldConfig
from adapters.values import field_value, timestamp
from pingan.serving import StatusError, invalid_argument, not_found, permission_denied
from pingan.v1 import adapter_pb2, common_pb2

MAX_ID_LENGTH = 256
MAX_REQUEST_ID_LENGTH = 128
MAX_PURPOSE_LENGTH = 256


def shown(text: str, limit: int = 80) -> str:
    """A request-supplied name, quoted and shortened for an error message."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


@dataclass(frozen=True, slots=True)
class PlannedFetch:
    """One validated dataset fetch: which records and which declared, exported fields."""

    dataset: DatasetConfig
    record_ids: tuple[str, ...]
    fields: tuple[FieldConfig, ...]  # in schema order

    @property
    def columns(self) -> list[str]:
        return [spec.column for spec in self.fields]


def plan_fetch(config: AdapterConfig, request: adapter_pb2.FetchRecordsRequest) -> list[PlannedFetch]:
    """Validate ``request``; raise StatusError with the status and an actionable message."""
    limits = config.server
    if len(request.request_id) > MAX_REQUEST_ID_LENGTH:
        raise invalid_argument(f"request_id is longer than {MAX_REQUEST_ID_LENGTH} characters")
    if len(request.purpose) > MAX_PURPOSE_LENGTH:
        raise invalid_argument(f"purpose is longer than {MAX_PURPOSE_LENGTH} characters")
    if not request.fetches:
        raise invalid_argument("FetchRecordsRequest has no fetches: name a dataset, record ids and fields")
    total_ids = sum(len(f.local_record_ids) for f in request.fetches)
    if total_ids > limits.max_records_per_request:
        raise invalid_argument(
            f"request asks for {total_ids} records; this adapter serves at most "
            f"{limits.max_records_per_request} per request (server.max_records_per_request): split it"
        )
    total_fields = sum(len(f.fields) for f in request.fetches)
    if total_fields > limits.max_fields_per_request:
        raise invalid_argument(
            f"request names {total_fields} fields; this adapter serves at most "
            f"{limits.max_fields_per_request} per request (server.max_fields_per_request): split it"
        )
    plans: list[PlannedFetch] = []
    for index, fetch in enumerate(request.fetches):
        if not fetch.dataset:
            raise invalid_argument(f"fetches[{index}].dataset is empty")
        ds = config.dataset(fetch.dataset)
        if ds is None:
            names = ", ".join(d.name for d in config.datasets)
            raise not_found(
                f"dataset {shown(fetch.dataset)} does not exist at department {config.department!r} "
                f"(datasets: {names})"
            )
        if not fetch.local_record_ids:
            raise invalid_argument(f"fetches[{index}] (dataset {ds.name!r}) names no local_record_ids")
        if not fetch.fields:
            raise invalid_argument(f"fetches[{index}] (dataset {ds.name!r}) names no fields")
        for rid in fetch.local_record_ids:
            if not rid or len(rid) > MAX_ID_LENGTH:
                raise invalid_argument(
                    f"fetches[{index}] (dataset {ds.name!r}) has an empty local_record_id or one longer "
                    f"than {MAX_ID_LENGTH} characters"
                )
        wanted: set[str] = set()
        exported = set(ds.export)
        for name in fetch.fields:
            spec = ds.field(name)
            if spec is None:
                raise not_found(f"field {shown(name)} is not declared in dataset {ds.name!r} (see Describe)")
            if name not in exported:
                raise permission_denied(
                    f"field {name!r} of dataset {ds.name!r} is not in the department's export allowlist"
                )
            wanted.add(name)
        plans.append(
            PlannedFetch(
                dataset=ds,
                record_ids=tuple(dict.fromkeys(fetch.local_record_ids)),
                fields=tuple(spec for spec in ds.fields if spec.name in wanted),
            )
        )
    return plans


def build_record(
    department: str, plan: PlannedFetch, record_id: str, row: Mapping[str, Any]
) -> common_pb2.Record:
    """A Record with provenance and the planned fields as typed values."""
    provenance = common_pb2.Provenance(
        department=department, dataset=plan.dataset.name, local_record_id=record_id
    )
    stamp = timestamp(row.get(plan.dataset.updated_at_column))
    if stamp is not None:
        provenance.updated_at.CopyFrom(stamp)
    fields = [
        common_pb2.Field(
            name=spec.name,
            value=field_value(row[spec.column], spec.value_type, where=f"{plan.dataset.name}.{spec.name}"),
            classification=spec.classification,
        )
        for spec in plan.fields
    ]
    return common_pb2.Record(provenance=provenance, fields=fields)


def status_name(exc: StatusError) -> str:
    return exc.code.name
