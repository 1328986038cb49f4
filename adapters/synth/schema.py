"""Table and dataset descriptions of a synthetic department.

Each department module declares its tables (DDL plus, per column, how an adapter
should classify it) and its datasets (a table, or a query joining tables). The same
descriptions create the SQLite schema, drive the ground truth and render the example
adapter configurations in ``adapters/examples/``, so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Column:
    """One column; ``field`` set = exposed as that field, ``identity`` set = linkage input.

    A column with neither (and not the dataset's id/updated_at/jurisdiction column)
    is listed as ``unexposed`` in the adapter configuration.
    """

    name: str
    sql: str
    comment: str
    field: str | None = None
    type: str = "string"
    category: str | None = None
    grade: str | None = None
    identity: str | None = None
    export: bool = True


@dataclass(frozen=True, slots=True)
class Table:
    """A table of the department's own database; the first column is the primary key."""

    name: str
    comment: str
    columns: tuple[Column, ...]
    indexes: tuple[str, ...] = ()  # join columns worth an index

    def ddl(self) -> str:
        cols = [f"{c.name} {c.sql}" + (" PRIMARY KEY" if i == 0 else "") for i, c in enumerate(self.columns)]
        return f"CREATE TABLE {self.name} (\n  " + ",\n  ".join(cols) + "\n)"

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True, slots=True)
class GroupRule:
    """Tag ``group`` when ``column``'s value is one of ``values``."""

    group: str
    column: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset as the adapter serves it.

    ``base_table`` is the table whose rows are the dataset's records: the ground truth
    lists one row per base-table row, keyed by ``id_column`` (which the base table
    carries under the same name). ``columns`` are the columns of the table or of the
    query's result, in order.
    """

    name: str
    description: str
    base_table: str
    id_column: str
    updated_at_column: str
    columns: tuple[Column, ...]
    query: str | None = None
    jurisdiction_column: str | None = None
    groups: tuple[str, ...] = ()
    group_rules: tuple[GroupRule, ...] = ()

    @property
    def bookkeeping(self) -> set[str]:
        return {c for c in (self.id_column, self.updated_at_column, self.jurisdiction_column) if c}

    @property
    def unexposed(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns
                     if c.field is None and c.identity is None and c.name not in self.bookkeeping)


def table_dataset(
    table: Table,
    name: str,
    description: str,
    updated_at_column: str,
    jurisdiction_column: str | None = None,
    groups: tuple[str, ...] = (),
    group_rules: tuple[GroupRule, ...] = (),
) -> Dataset:
    """A dataset that is exactly one table."""
    return Dataset(name, description, table.name, table.columns[0].name, updated_at_column,
                   table.columns, None, jurisdiction_column, groups, group_rules)


def query_dataset(
    base: Table,
    name: str,
    description: str,
    updated_at_column: str,
    joined: tuple[tuple[str, Table, tuple[str | Column, ...]], ...],
    join_sql: str,
    groups: tuple[str, ...] = (),
    group_rules: tuple[GroupRule, ...] = (),
    jurisdiction_column: str | None = None,
) -> Dataset:
    """A dataset joining ``base`` (alias ``b``, all columns) with columns of other tables.

    ``joined`` lists (alias, table, column names or re-classified Columns) to add; ``join_sql`` is the FROM/JOIN
    clause after ``FROM <base> b``.
    """
    select = [f"b.{c.name}" for c in base.columns]
    columns = list(base.columns)
    for alias, table, picks in joined:
        for pick in picks:
            # A Column here re-classifies the joined column for this dataset.
            column = table.column(pick) if isinstance(pick, str) else pick
            table.column(column.name)
            select.append(f"{alias}.{column.name}")
            columns.append(column)
    query = f"SELECT {', '.join(select)} FROM {base.name} b {join_sql}"
    return Dataset(name, description, base.name, base.columns[0].name, updated_at_column,
                   tuple(columns), query, jurisdiction_column, groups, group_rules)


@dataclass(frozen=True, slots=True)
class DepartmentSchema:
    """Everything describing one department's database."""

    name: str
    display_name: str
    tables: tuple[Table, ...]
    datasets: tuple[Dataset, ...]

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)


def C(
    name: str,
    comment: str,
    field: str | None = None,
    category: str | None = None,
    grade: str | None = None,
    *,
    sql: str = "TEXT",
    type: str = "string",
    identity: str | None = None,
    export: bool = True,
) -> Column:
    """Shorthand for :class:`Column`."""
    return Column(name, sql, comment, field, type, category, grade, identity, export)
