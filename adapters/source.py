"""Read access to the department's own database with SQLAlchemy Core.

Each dataset is a selectable: a reflected table, or the configured query
wrapped as a subquery. Every statement is built with SQLAlchemy Core and bound
parameters; values from requests (record ids, watermark positions) are never
spliced into SQL text. Only the columns a request needs are selected.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, RowMapping

from adapters.errors import ConfigError
from adapters.model import AdapterConfig, DatasetConfig
from adapters.watermark import PHASE_NULL, PHASE_TS, Position
from pingan.driver_select import select_mappings

_STATEMENTS_KEPT = 256  # fetch statements per adapter: datasets x the field sets the hub asks for x id counts
_DRIVER_IDS = 16  # up to this many ids per fetch: through the driver (pingan.driver_select)


def describe_url(url: str) -> str:
    """The URL with any password hidden, fit for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid URL>"


def create_engine(config: AdapterConfig, url: str, key: str) -> Engine:
    """An engine for ``url``; an unknown dialect or missing driver is a ConfigError naming ``key``."""
    options: dict[str, Any] = {}
    try:
        parsed = sa.engine.make_url(url)
        if parsed.get_backend_name() == "sqlite":
            # A file has no connection to lose: no "SELECT 1" before every fetch.
            options["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            options["pool_pre_ping"] = True  # a server may have closed an idle connection
        return sa.create_engine(parsed, **options)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise ConfigError(f"{config.path}: {key}: cannot use {describe_url(url)}: {exc}") from None


def read_only(engine: Engine) -> None:
    """Make every connection to the department database refuse writes, whatever its grants.

    SQLite: ``PRAGMA query_only`` (https://sqlite.org/pragma.html#pragma_query_only);
    PostgreSQL: ``default_transaction_read_only``. Other dialects rely on the
    database account's grants (give the adapter a read-only account anyway).
    """
    name = engine.dialect.name
    if name not in ("sqlite", "postgresql"):
        return

    @sa.event.listens_for(engine, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        if name == "sqlite":
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA query_only = ON")
            cursor.close()
        else:
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            cursor = dbapi_connection.cursor()
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cursor.close()
            dbapi_connection.autocommit = autocommit


@dataclass(frozen=True, slots=True)
class DatasetSource:
    """The selectable of one dataset and how its ids are compared."""

    config: DatasetConfig
    selectable: sa.FromClause
    columns: tuple[str, ...]
    integer_ids: bool
    string_ids: bool = False

    def column(self, name: str) -> sa.ColumnElement[Any]:
        return self.selectable.c[name]


class DepartmentSource:
    """The department database, opened and reflected once at start."""

    def __init__(self, config: AdapterConfig) -> None:
        self.config = config
        self.engine = create_engine(config, config.database_url, "database.url")
        read_only(self.engine)
        self.datasets: dict[str, DatasetSource] = {}
        self._statements: dict[tuple[str, tuple[str, ...], int], sa.Select[Any]] = {}
        self._statements_lock = threading.Lock()

    def open(self) -> None:
        """Connect and reflect every dataset; ConfigError when unreachable or a table/query is wrong."""
        path = self.config.path
        url = self.engine.url
        if (
            url.get_backend_name() == "sqlite"
            and url.database
            and url.database != ":memory:"
            and not url.query.get("uri")
            and not Path(url.database).is_file()
        ):
            # sqlite3 would silently create an empty file in the department's directory
            raise ConfigError(f"{path}: database.url: SQLite file {url.database} does not exist")
        try:
            conn = self.engine.connect()
        except sa.exc.DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise ConfigError(
                f"{path}: database.url: cannot connect to {describe_url(self.config.database_url)}: {reason}"
            ) from None
        with conn:
            for ds in self.config.datasets:
                self.datasets[ds.name] = self._reflect(conn, ds)

    def _reflect(self, conn: sa.Connection, ds: DatasetConfig) -> DatasetSource:
        path = self.config.path
        if ds.table is not None:
            schema, _, name = ds.table.rpartition(".")
            try:
                table = sa.Table(name, sa.MetaData(), autoload_with=conn, schema=schema or None)
            except sa.exc.NoSuchTableError:
                raise ConfigError(
                    f"{path}: datasets[{ds.name}].table: table {ds.table!r} does not exist in the department database"
                ) from None
            columns = tuple(c.name for c in table.columns)
            id_type: type | None = None
            if ds.id_column in table.c:
                try:
                    id_type = table.c[ds.id_column].type.python_type
                except NotImplementedError:
                    id_type = None
            return DatasetSource(ds, table, columns, integer_ids=id_type is int, string_ids=id_type is str)
        assert ds.query is not None
        probe = sa.text(f"SELECT * FROM ({ds.query}) AS pingan_probe WHERE 1 = 0")
        try:
            columns = tuple(conn.execute(probe).keys())
        except sa.exc.DBAPIError as exc:
            conn.rollback()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise ConfigError(f"{path}: datasets[{ds.name}].query: the query fails: {reason}") from None
        subquery = sa.text(ds.query).columns(*(sa.column(c) for c in columns)).subquery("pingan_q")
        return DatasetSource(ds, subquery, columns, False)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- reads -----------------------------------------------------------------

    def fetch(
        self, dataset: str, record_ids: Sequence[str], columns: Iterable[str]
    ) -> dict[str, Mapping[str, Any]]:
        """Rows of ``record_ids`` (as strings) with the id column and ``columns``; absent ids are left out."""
        src = self.datasets[dataset]
        if src.integer_ids:
            keys: list[Any] = []
            for rid in record_ids:
                try:
                    key = int(rid)
                except ValueError:
                    continue  # cannot exist in an integer id column: reported missing
                # only the canonical spelling ("12", not "012") within BIGINT range can be a record id
                if str(key) == rid and -(2**63) <= key < 2**63:
                    keys.append(key)
        else:
            keys = list(record_ids)
        if not keys:
            return {}
        wanted = tuple(dict.fromkeys(columns))
        id_column = src.config.id_column
        if len(keys) <= _DRIVER_IDS:
            # The hub asks for one person's few records: through the driver, a statement per id
            # count (Connection.execute cost several times what the database spent on it).
            stmt = self._fetch_statement(dataset, wanted, len(keys))
            found = select_mappings(self.engine, stmt, {f"id_{n}": key for n, key in enumerate(keys)})
            return {str(row[id_column]): row for row in found}
        stmt = self._fetch_statement(dataset, wanted, 0)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt, {"ids": keys}).mappings().all()
        return {str(row[id_column]): row for row in rows}

    def _fetch_statement(self, dataset: str, columns: tuple[str, ...], count: int) -> sa.Select[Any]:
        """SELECT id, columns FROM the dataset WHERE id IN (:id_0, ... :id_{count-1}), or IN an
        expanding ``:ids`` for ``count`` 0; built once per dataset, column set and count (the hub
        asks for the same few field sets; building it cost more than running it)."""
        key = (dataset, columns, count)
        stmt = self._statements.get(key)
        if stmt is None:
            src = self.datasets[dataset]
            id_col = src.column(src.config.id_column)
            wanted = [id_col, *(src.column(c) for c in columns if c != src.config.id_column)]
            ids: Any = [sa.bindparam(f"id_{n}") for n in range(count)] if count else sa.bindparam("ids", expanding=True)
            compared = id_col if src.integer_ids or src.string_ids else sa.cast(id_col, sa.String)
            stmt = sa.select(*wanted).where(compared.in_(ids))
            with self._statements_lock:  # FetchRecords runs on several server threads
                if len(self._statements) >= _STATEMENTS_KEPT:
                    self._statements.pop(next(iter(self._statements)))
                self._statements[key] = stmt
        return stmt

    def scan(
        self, dataset: str, after: Position | None, limit: int, columns: Iterable[str]
    ) -> list[RowMapping]:
        """Up to ``limit`` rows after ``after`` in watermark order (NULL updated_at first, by id)."""
        src = self.datasets[dataset]
        id_col = src.column(src.config.id_column)
        upd = src.column(src.config.updated_at_column)
        names = dict.fromkeys([src.config.id_column, src.config.updated_at_column, *columns])
        base = sa.select(*(src.column(c) for c in names))
        rows: list[RowMapping] = []
        with self.engine.connect() as conn:
            if after is None or after.phase == PHASE_NULL:
                stmt = base.where(upd.is_(None))
                if after is not None and after.last_id is not None:
                    stmt = stmt.where(id_col > sa.bindparam("after_id", after.last_id))
                rows = list(conn.execute(stmt.order_by(id_col).limit(limit)).mappings())
                if len(rows) == limit:
                    return rows
                after = Position(PHASE_TS, None, None)
            stmt = base.where(upd.is_not(None))
            if after.phase == PHASE_TS and after.updated_at is not None:
                u = sa.bindparam("after_u", after.updated_at)
                i = sa.bindparam("after_i", after.last_id)
                stmt = stmt.where(sa.or_(upd > u, sa.and_(upd == u, id_col > i)))
            stmt = stmt.order_by(upd, id_col).limit(limit - len(rows))
            rows.extend(conn.execute(stmt).mappings())
        return rows
