"""The ground-truth file: which true person and household every person record describes.

``ground_truth.csv`` has the header ``department,dataset,local_record_id,person_id,household_id``:
one row per record of every dataset of the example adapter configurations, where
``dataset`` is the dataset name and ``local_record_id`` the value of its id_column.
Linkage quality benchmarks compare resolved identities against it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from adapters.synth.departments import DepartmentRows
from adapters.synth.population import Population
from adapters.synth.schema import DepartmentSchema

HEADER = ("department", "dataset", "local_record_id", "person_id", "household_id")
FILE_NAME = "ground_truth.csv"


def truth_rows(schema: DepartmentSchema, rows: DepartmentRows, pop: Population) -> Iterator[tuple[str, ...]]:
    """(department, dataset, local id, person id, household id) for every dataset record."""
    for dataset in schema.datasets:
        table = schema.table(dataset.base_table)
        id_pos = table.column_names.index(dataset.id_column)
        owners = rows.owners.get(table.name, [])
        table_rows = rows.rows.get(table.name, [])
        if len(owners) != len(table_rows):
            raise AssertionError(f"{schema.name}.{table.name}: every row of a dataset table needs its owner")
        for row, owner in zip(table_rows, owners):
            person = pop.persons[owner]
            yield (schema.name, dataset.name, str(row[id_pos]), person.person_id, person.household_id)


def write(path: Path, rows: Iterator[tuple[str, ...]]) -> int:
    """Write the CSV (UTF-8, LF line ends, deterministic) and return the number of records."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow(row)
            n += 1
    return n
