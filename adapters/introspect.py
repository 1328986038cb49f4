"""Start-up checks of a configuration against the department's real schema.

REQUIREMENTS.md #3: an adapter whose schema has an unclassified field refuses
to start. Every column of a dataset's table (or query result) must be accounted
for - mapped to an identity field, declared as a classified field, listed in
``unexposed``, or one of the id / updated_at / jurisdiction columns - and every
column the configuration names must exist.
"""

from __future__ import annotations

from collections.abc import Iterator

from adapters.errors import ConfigError
from adapters.model import AdapterConfig, DatasetConfig
from adapters.source import DepartmentSource


def referenced_columns(ds: DatasetConfig) -> Iterator[tuple[str, str]]:
    """(key, column) for every column the dataset's configuration names."""
    yield "id_column", ds.id_column
    yield "updated_at_column", ds.updated_at_column
    if ds.jurisdiction_column:
        yield "jurisdiction_column", ds.jurisdiction_column
    for canonical, column in ds.identity:
        yield f"identity.{canonical}", column
    for spec in ds.fields:
        yield f"fields[{spec.name}].column", spec.column
    for column in ds.unexposed:
        yield "unexposed", column
    for index, rule in enumerate(ds.group_rules):
        yield f"group_rules[{index}].column", rule.column


def accounted_columns(ds: DatasetConfig) -> set[str]:
    """Columns that are mapped, classified or explicitly unexposed (group-rule columns are not enough)."""
    accounted = {ds.id_column, ds.updated_at_column, *ds.unexposed}
    if ds.jurisdiction_column:
        accounted.add(ds.jurisdiction_column)
    accounted.update(column for _, column in ds.identity)
    accounted.update(spec.column for spec in ds.fields)
    return accounted


def check_columns(config: AdapterConfig, source: DepartmentSource) -> None:
    """Raise ConfigError for the first missing or unaccounted column, naming file, dataset and key."""
    for ds in config.datasets:
        src = source.datasets[ds.name]
        where = f"table {ds.table!r}" if ds.table else "the query result"
        present = set(src.columns)
        for key, column in referenced_columns(ds):
            if column not in present:
                raise ConfigError(
                    f"{config.path}: datasets[{ds.name}].{key}: column {column!r} does not exist in {where} "
                    f"(columns: {', '.join(src.columns)})"
                )
        accounted = accounted_columns(ds)
        for column in src.columns:
            if column not in accounted:
                raise ConfigError(
                    f"{config.path}: datasets[{ds.name}]: column {column!r} of {where} is not accounted for; "
                    "map it under [datasets.identity], declare it in [[datasets.fields]] with category and "
                    "grade, or list it in unexposed"
                )


def check_schema(config: AdapterConfig) -> None:
    """Open the department database, reflect every dataset and run :func:`check_columns`."""
    source = DepartmentSource(config)
    try:
        source.open()
        check_columns(config, source)
    finally:
        source.dispose()
