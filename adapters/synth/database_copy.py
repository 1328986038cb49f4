"""Copy generated department databases into another SQLAlchemy database (e.g. PostgreSQL).

The generator writes SQLite files; adapters and benchmarks also run against PostgreSQL.
Table names differ across departments, so every department can share one target
database. Tables are created from the same descriptions as the SQLite files (so the
example configurations stay valid, only ``[database] url`` changes) and filled in
chunks inside one transaction per department.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from adapters.synth.errors import SynthError
from adapters.synth.schema import DepartmentSchema

SQL_TYPES: dict[str, type[sa.types.TypeEngine]] = {"TEXT": sa.Text, "INTEGER": sa.BigInteger, "REAL": sa.Float}
CHUNK = 5000


def _metadata(schema: DepartmentSchema) -> sa.MetaData:
    md = sa.MetaData()
    updated = {d.base_table: d.updated_at_column for d in schema.datasets}
    for table in schema.tables:
        t = sa.Table(table.name, md, *[
            sa.Column(c.name, SQL_TYPES[c.sql](), primary_key=(i == 0)) for i, c in enumerate(table.columns)
        ])
        for col in (*table.indexes, *([updated[table.name]] if table.name in updated else [])):
            sa.Index(f"ix_{table.name}_{col}", t.c[col])
    return md


def copy_department(data_dir: Path, schema: DepartmentSchema, url: str) -> dict[str, int]:
    """Create ``schema``'s tables in ``url`` (replacing them) and copy ``data_dir/<department>.db`` into them."""
    source_path = data_dir / f"{schema.name}.db"
    if not source_path.is_file():
        raise SynthError(f"{source_path} does not exist; run `pingan synth` first")
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise SynthError(f"bad database URL for --copy-to: {exc}") from exc
    md = _metadata(schema)
    source = sqlite3.connect(source_path)
    counts: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            md.drop_all(conn)
            md.create_all(conn)
            for table in schema.tables:
                target = md.tables[table.name]
                names = table.column_names
                cursor = source.execute(f"SELECT {', '.join(names)} FROM {table.name} ORDER BY rowid")
                n = 0
                while batch := cursor.fetchmany(CHUNK):
                    conn.execute(target.insert(), [dict(zip(names, row)) for row in batch])
                    n += len(batch)
                counts[table.name] = n
    except sa.exc.OperationalError as exc:
        raise SynthError(f"cannot write to the --copy-to database: {exc.orig}") from exc
    finally:
        source.close()
        engine.dispose()
    return counts
