"""The identity index: persons and households over department records, by encodings only.

Usage (hub side)::

    index = IdentityIndex("sqlite:///hub.db")          # migrates the identity_* tables
    index.apply_batch("justice", records, watermark)    # validated; BatchRejected keeps the watermark
    index.resolve()                                     # block, score (EM), cluster, stable ids, events
    index.lookup(encoding)                              # Tokenize output -> [PersonMatch]
    index.records_of(person_id)                         # -> [RecordRef(department, dataset, local_record_id)]
    index.person(person_id)                             # -> PersonInfo (household, migrant, jurisdiction, groups)
    index.events_since(seq)                             # merges and splits, for the audit log

Person ids are stable: a re-run over unchanged data changes nothing, a new
record that matches joins its person, and every merge or split is an event with
the ids before and after and the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from hub.identity import store
from hub.identity.clustering import MATCH_THRESHOLD
from hub.identity.comparison import FEATURES
from hub.identity.errors import BatchRejected, IdentityError
from hub.identity.fellegi_sunter import FellegiSunterModel
from hub.identity.households import household_labels, migrant_flags
from hub.identity.matcher import Matcher
from hub.identity.reconcile import Change, reconcile
from hub.identity.records import BLOOM_FIELDS, EncodedRecord, RecordMatrix, token_int, token_ints
from hub.identity.resolution import Resolution
from hub.identity.resolution import resolve as run_resolution
from hub.identity.scheme import ExpectedScheme, validate_batch, validate_encoding
from pingan.bulk_insert import insert_rows
from pingan.driver_select import select_rows
from pingan.v1 import linkage_pb2


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Where a person's record lives: department, dataset and the department's own id."""

    department: str
    dataset: str
    local_record_id: str


@dataclass(frozen=True, slots=True)
class PersonInfo:
    """What the index knows about a person (no identifier, only derived facts)."""

    person_id: str
    household_id: str | None
    migrant: bool
    jurisdiction: str
    groups: tuple[int, ...]
    records: int


@dataclass(frozen=True, slots=True)
class PersonMatch:
    """A person a query encoding matches, with the Fellegi-Sunter posterior."""

    person_id: str
    probability: float


@dataclass(frozen=True, slots=True)
class IdentityEvent:
    """A merge or split of persons or households, in order of ``seq``."""

    seq: int
    subject: str  # "person" or "household"
    kind: str  # "merge" or "split"
    before: tuple[str, ...]
    after: tuple[str, ...]
    reason: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ResolveSummary:
    """Counts from one resolution run."""

    records: int
    persons: int
    households: int
    candidates: int
    merges: int
    splits: int
    events: int


_LOAD_CHUNK = 50_000  # rows per step when the records are read into the matrix
_CONFIDENCE_DECIMALS = 4  # stored confidence precision
_PAIR_CHUNK = 4_000_000  # candidate pairs per step of the confidence computation
_DELETE_CHUNK = 500  # record ids per DELETE ... IN (...) statement (under SQLite's 999 parameters)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _new_person_id() -> str:
    return "p-" + secrets.token_hex(8)


def _new_household_id() -> str:
    return "h-" + secrets.token_hex(8)


# Statements a profile request runs, built once: constructing the expression cost more
# than running it (docs/benchmarks.md, "Profile load").
_ASSIGNED = store.records.join(store.assignments, store.assignments.c.record_id == store.records.c.id)
_RECORDS_OF = (
    sa.select(store.records.c.department, store.records.c.dataset, store.records.c.local_record_id)
    .select_from(_ASSIGNED)
    .where((store.assignments.c.person_id == sa.bindparam("person_id")) & store.records.c.deleted.is_(False))
    .order_by(store.records.c.department, store.records.c.dataset, store.records.c.local_record_id)
)
_PERSON = sa.select(
    store.persons.c.person_id,
    store.persons.c.household_id,
    store.persons.c.migrant,
    store.persons.c.jurisdiction,
    store.persons.c.groups,
    sa.select(sa.func.count())
    .select_from(_ASSIGNED)
    .where((store.assignments.c.person_id == store.persons.c.person_id) & store.records.c.deleted.is_(False))
    .scalar_subquery()
    .label("record_count"),
).where((store.persons.c.person_id == sa.bindparam("person_id")) & store.persons.c.active.is_(True))
_HOUSEHOLD_MEMBERS = (
    sa.select(store.persons.c.person_id)
    .where((store.persons.c.household_id == sa.bindparam("household_id")) & store.persons.c.active.is_(True))
    .order_by(store.persons.c.person_id)
)


def _confidence(n: int, labels: np.ndarray, res: Resolution) -> np.ndarray:
    """Each record's best match probability with a record of its own person (0 when alone).

    In chunks of pairs: gathering both labels of 90 million pairs at once took 1.4 GB.
    """
    conf = np.zeros(n)
    for s in range(0, len(res.pair_i), _PAIR_CHUNK):
        i, j, p = res.pair_i[s : s + _PAIR_CHUNK], res.pair_j[s : s + _PAIR_CHUNK], res.probability[s : s + _PAIR_CHUNK]
        same = labels[i] == labels[j]
        np.maximum.at(conf, i[same], p[same])
        np.maximum.at(conf, j[same], p[same])
    return conf


@dataclass(frozen=True, slots=True)
class _Stored:
    """The active records as stored, row-aligned with ``matrix``."""

    ids: list[int]  # identity_records.id, in RecordMatrix.locality_order
    person_ids: list[str | None]  # the current assignment (None: not resolved yet)
    confidence: np.ndarray  # the current assignment's confidence, NaN where none
    extras: list[tuple[str, str]]  # (jurisdiction, groups) as stored
    matrix: RecordMatrix


@dataclass(slots=True)
class _Loaded:
    """In-memory state of the last resolution (for lookups)."""

    person_ids: list[str]  # per cluster label index
    matcher: Matcher
    scheme: ExpectedScheme  # what query encodings must have; changes only with a batch, which unloads this
    generation: str  # the resolution this state comes from (settings key "generation")


# Exact keys a query may ask by alone, with the Bloom filters its encoding may carry
# beside the token (a name and birth date query also carries their filters).
ASKED_BY_HOLDERS: dict[str, frozenset[str]] = {
    "phone": frozenset(),
    "landline": frozenset(),
    "name_birth": frozenset({"name", "surname", "given_name", "birth_date"}),
}


def asked_by_holders(kinds: set[str], blooms: set[str]) -> str:
    """The exact key a query asks by alone (its only token, with no filter beyond those
    that key's own fields make), or "" for a query to score."""
    if len(kinds) != 1:
        return ""
    (kind,) = kinds
    allowed = ASKED_BY_HOLDERS.get(kind)
    return kind if allowed is not None and blooms <= allowed else ""


class IdentityIndex:
    """The hub's identity index over one SQLAlchemy database."""

    def __init__(
        self,
        url: str | sa.Engine,
        *,
        expected: ExpectedScheme | None = None,
        threshold: float = MATCH_THRESHOLD,
    ) -> None:
        self._engine = sa.create_engine(url) if isinstance(url, str) else url
        store.migrate(self._engine)
        self._configured = expected or ExpectedScheme()
        self._threshold = threshold
        self._loaded: _Loaded | None = None
        # Building the lookup state (the matcher's LSH bands over every record) takes seconds
        # on a large index: one thread builds it, concurrent first lookups wait for that one.
        self._load_lock = threading.Lock()

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    # -- settings --------------------------------------------------------------------------

    def _setting(self, conn: sa.Connection, key: str) -> str | None:
        return conn.execute(sa.select(store.settings.c.value).where(store.settings.c.key == key)).scalar()

    def _put_setting(self, conn: sa.Connection, key: str, value: str) -> None:
        conn.execute(sa.delete(store.settings).where(store.settings.c.key == key))
        conn.execute(sa.insert(store.settings).values(key=key, value=value))

    def expected_scheme(self) -> ExpectedScheme:
        """The scheme encodings must have (its key id is adopted from the first accepted batch)."""
        with self._engine.connect() as conn:
            stored = self._setting(conn, "scheme")
        return ExpectedScheme.from_json(json.loads(stored)) if stored else self._configured

    # -- ingestion -------------------------------------------------------------------------

    def watermark(self, department: str) -> str:
        """The watermark after the last batch applied from ``department`` ("" before any)."""
        with self._engine.connect() as conn:
            value = conn.execute(
                sa.select(store.sources.c.watermark).where(store.sources.c.department == department)
            ).scalar()
        return value or ""

    def last_error(self, department: str) -> str:
        """Why the last batch of ``department`` was rejected ("" when it was not)."""
        with self._engine.connect() as conn:
            value = conn.execute(
                sa.select(store.sources.c.last_error).where(store.sources.c.department == department)
            ).scalar()
        return value or ""

    def _set_source(self, conn: sa.Connection, department: str, **values: str) -> None:
        exists = conn.execute(
            sa.select(store.sources.c.department).where(store.sources.c.department == department)
        ).first()
        if exists:
            conn.execute(
                sa.update(store.sources)
                .where(store.sources.c.department == department)
                .values(updated_at=_now(), **values)
            )
        else:
            row = {"watermark": "", "last_error": "", **values}
            conn.execute(sa.insert(store.sources).values(department=department, updated_at=_now(), **row))

    def record_rejection(self, department: str, message: str) -> None:
        """Remember why a batch was rejected; the watermark stays where it was."""
        with self._engine.begin() as conn:
            self._set_source(conn, department, last_error=message)

    def apply_batch(
        self, department: str, batch: Sequence[linkage_pb2.LinkageRecord], watermark: str
    ) -> int:
        """Validate and store one batch and its watermark atomically; returns records applied.

        Raises :class:`BatchRejected` (nothing stored, watermark kept) when any record is invalid.
        """
        if not department:
            raise BatchRejected("department name is empty")
        expected = self.expected_scheme()
        adopt = not expected.key_id
        if adopt:
            first = next((r.encoding.scheme.key_id for r in batch if not r.deleted and r.encoding.scheme.key_id), "")
            expected = expected.with_key_id(first)
        try:
            validate_batch(department, batch, expected)
        except BatchRejected as exc:
            self.record_rejection(department, str(exc))
            raise
        now = _now()
        with self._engine.begin() as conn:
            if adopt and expected.key_id:
                self._put_setting(conn, "scheme", json.dumps(expected.to_json()))
            self._store(conn, department, batch, now)
            self._set_source(conn, department, watermark=watermark, last_error="")
        # Lookups keep answering from the last resolution (as replicas do) until resolve()
        # replaces it: new records are findable once they are resolved, not before.
        return len(batch)

    @staticmethod
    def _values(department: str, rec: linkage_pb2.LinkageRecord, now: dt.datetime) -> dict[str, object]:
        values: dict[str, object] = {f"bloom_{f}": None for f in BLOOM_FIELDS}
        if rec.deleted:
            values.update(sex="", birth_year=0, residence_mismatch=False, jurisdiction="", groups="", deleted=True)
        else:
            enc = EncodedRecord.from_message(department, rec)
            for field, bits in enc.blooms:
                values[f"bloom_{field}"] = bits
            values.update(
                sex=enc.sex,
                birth_year=enc.birth_year,
                residence_mismatch=enc.residence_mismatch,
                jurisdiction=enc.jurisdiction,
                groups=",".join(str(g) for g in enc.groups),
                deleted=False,
            )
        values["updated_at"] = now
        return values

    def _store(
        self, conn: sa.Connection, department: str, batch: Sequence[linkage_pb2.LinkageRecord], now: dt.datetime
    ) -> None:
        """Insert new records and update known ones (set-based: one query per chunk, not per record)."""
        r = store.records.c
        existing: dict[tuple[str, str], int] = {}
        keys = [(rec.dataset, rec.local_record_id) for rec in batch]
        for s in range(0, len(keys), 500):
            chunk = keys[s : s + 500]
            rows = conn.execute(
                sa.select(r.dataset, r.local_record_id, r.id).where(
                    (r.department == department) & r.local_record_id.in_({k[1] for k in chunk})
                )
            ).all()
            existing.update({(d, lid): rid for d, lid, rid in rows})
        inserts, updates = [], []
        for rec in batch:
            key = (rec.dataset, rec.local_record_id)
            values = self._values(department, rec, now)
            if key in existing:
                updates.append((existing[key], values))
            elif not rec.deleted:
                inserts.append((rec, {"department": department, "dataset": key[0], "local_record_id": key[1], **values}))
        token_rows: list[dict[str, object]] = []
        if updates:
            conn.execute(sa.delete(store.tokens).where(store.tokens.c.record_id.in_([u[0] for u in updates])))
            for rid, values in updates:
                conn.execute(sa.update(store.records).where(r.id == rid).values(**values))
        if inserts:
            result = conn.execute(
                sa.insert(store.records).returning(r.id, sort_by_parameter_order=True), [v for _, v in inserts]
            )
            new_ids = [row[0] for row in result]
        else:
            new_ids = []
        by_id = [(rid, rec) for rid, (rec, _v) in zip(new_ids, inserts, strict=True)]
        by_id += [(rid, rec) for (rid, _v), rec in zip(updates, [b for b in batch if (b.dataset, b.local_record_id) in existing], strict=True)]
        for rid, rec in by_id:
            if not rec.deleted:
                token_rows.extend({"record_id": rid, "kind": t.kind, "token": bytes(t.token)} for t in rec.encoding.exact)
        if token_rows:
            conn.execute(sa.insert(store.tokens), token_rows)

    # -- resolution ------------------------------------------------------------------------

    def _load(self, conn: sa.Connection) -> _Stored:
        """Active records as a matrix, with their db ids, current assignments, jurisdiction and groups.

        Streamed ``_LOAD_CHUNK`` rows at a time into numpy columns: a million records held
        as Python rows and objects at once took about 3 GB that the process kept after
        they were freed (docs/benchmarks.md, identity scale, stored path).
        """
        scheme = self.expected_scheme()
        r, a = store.records.c, store.assignments.c
        columns = [r.id, a.person_id, r.department, r.dataset, r.local_record_id, r.sex, r.birth_year]
        columns += [r.residence_mismatch, r.jurisdiction, r.groups, a.confidence]
        columns += [r[f"bloom_{f}"] for f in BLOOM_FIELDS]
        first_bloom = 11  # position of the first bloom column in ``columns``
        ids: list[int] = []
        previous: list[str | None] = []
        confidence: list[float | None] = []
        extras: list[tuple[str, str]] = []
        parts: list[RecordMatrix] = []
        query = (
            sa.select(*columns)
            .select_from(store.records.outerjoin(store.assignments, a.record_id == r.id))
            .where(r.deleted.is_(False))
            .order_by(r.id)
        )
        # per statement: Connection.execution_options would change every later statement of the transaction
        result = conn.execute(query.execution_options(yield_per=_LOAD_CHUNK))
        for rows in result.partitions():
            columns_of = list(zip(*rows, strict=True))  # one tuple per column: no object per record
            parts.append(
                RecordMatrix.from_columns(
                    scheme.bloom_bits,
                    {f: columns_of[first_bloom + k] for k, f in enumerate(BLOOM_FIELDS)},
                    sex=columns_of[5],
                    birth_year=columns_of[6],
                    residence_mismatch=columns_of[7],
                    jurisdiction=columns_of[8],
                )
            )
            ids.extend(columns_of[0])
            previous.extend(columns_of[1])
            confidence.extend(columns_of[10])
            extras.extend(zip(columns_of[8], columns_of[9], strict=True))
        mx = RecordMatrix.concat(parts, scheme.bloom_bits // 8)
        del parts
        # Exact tokens: placed by the record's row (ids ascend here); tokens of deleted records are skipped.
        by_id = np.asarray(ids, np.int64)
        t = store.tokens.c
        tokens = sa.select(t.record_id, t.kind, t.token).execution_options(yield_per=_LOAD_CHUNK)
        for rows in conn.execute(tokens).partitions():
            owners_of, kinds_of, tokens_of = zip(*rows, strict=True)
            owners = np.fromiter(owners_of, np.int64, count=len(rows))
            kinds = np.array(kinds_of)
            values = token_ints(tokens_of)
            at = np.minimum(np.searchsorted(by_id, owners), max(len(by_id) - 1, 0))
            active = (by_id[at] == owners) if len(by_id) else np.zeros(len(owners), bool)
            for kind in set(kinds_of):
                mine = active & (kinds == kind)
                mx.tokens[kind][at[mine]] = values[mine]
        # Resolution runs faster over rows in name order than in arrival order, department by
        # department (RecordMatrix.locality_order); every column returned follows that order.
        order = mx.locality_order()
        mx.permute(order)
        rows = order.tolist()
        return _Stored(
            [ids[k] for k in rows],
            [previous[k] for k in rows],
            np.array(confidence, np.float64)[order],
            [extras[k] for k in rows],
            mx,
        )

    def resolve(self) -> ResolveSummary:
        """Re-resolve every active record; keeps ids stable and records merges and splits."""
        now = _now()
        with self._engine.begin() as conn:
            stored = self._load(conn)
            ids, previous, mx = stored.ids, stored.person_ids, stored.matrix
            res = run_resolution(mx, threshold=self._threshold)
            labels = res.labels
            uniq, person_index = np.unique(labels, return_inverse=True)
            clusters: list[list[int]] = [[] for _ in range(len(uniq))]
            for row, p in enumerate(person_index.tolist()):
                clusters[p].append(ids[row])
            prev_map = {ids[row]: pid for row, pid in enumerate(previous) if pid}
            person_ids, changes = reconcile(clusters, prev_map, _new_person_id)
            conf = _confidence(mx.n, labels, res)
            # households and migrant flags per person
            hh_labels = household_labels(mx, person_index)
            hh_uniq, hh_index = np.unique(hh_labels, return_inverse=True)
            hh_clusters: list[list[str]] = [[] for _ in range(len(hh_uniq))]
            for p, h in enumerate(hh_index.tolist()):
                hh_clusters[h].append(person_ids[p])
            old_hh = dict(
                conn.execute(
                    sa.select(store.persons.c.person_id, store.persons.c.household_id).where(
                        store.persons.c.household_id.is_not(None)
                    )
                ).all()
            )
            hh_ids, hh_changes = reconcile(hh_clusters, old_hh, _new_household_id)
            migrant = migrant_flags(mx, person_index)
            self._write(conn, now, stored, person_index, person_ids, conf, hh_index, hh_ids, migrant)
            events = self._events(
                conn, now, changes, hh_changes, res, person_index, ids, prev_map, mx.tokens["id_number"]
            )
            conn.execute(
                sa.delete(store.settings).where(store.settings.c.key == "model")
            )
            conn.execute(sa.insert(store.settings).values(key="model", value=json.dumps(res.model.to_json())))
            generation = secrets.token_hex(8)  # other processes reload their lookup state on a change
            self._put_setting(conn, "generation", generation)
        model, candidates = res.model, res.candidates
        del res  # the candidate pairs (about 1.5 GB at a million records) before the matcher is built
        fresh = _Loaded(
            person_ids, Matcher(mx, person_index, model, self._threshold), self.expected_scheme(), generation
        )
        with self._load_lock:  # after any reload that started before this resolution committed
            self._loaded = fresh
        return ResolveSummary(
            records=mx.n,
            persons=len(person_ids),
            households=len(hh_ids),
            candidates=candidates,
            merges=sum(c.kind == "merge" for c in changes),
            splits=sum(c.kind == "split" for c in changes),
            events=events,
        )

    def _write(
        self,
        conn: sa.Connection,
        now: dt.datetime,
        stored: _Stored,
        person_index: np.ndarray,
        person_ids: list[str],
        conf: np.ndarray,
        hh_index: np.ndarray,
        hh_ids: list[str],
        migrant: np.ndarray,
    ) -> None:
        self._write_assignments(conn, stored, person_index, person_ids, conf)
        extras = stored.extras
        juris: dict[int, Counter[str]] = defaultdict(Counter)
        groups: dict[int, set[int]] = defaultdict(set)
        for (j, g), p in zip(extras, person_index.tolist(), strict=True):
            if j:
                juris[p][j] += 1
            groups[p].update(int(x) for x in g.split(",") if x)
        existing = set(conn.execute(sa.select(store.persons.c.person_id)).scalars())
        conn.execute(sa.update(store.persons).values(active=False, updated_at=now))
        updates: list[dict[str, object]] = []
        inserts: list[dict[str, object]] = []
        for p, pid in enumerate(person_ids):
            values = {
                "household_id": hh_ids[int(hh_index[p])],
                "migrant": bool(migrant[p]),
                "jurisdiction": juris[p].most_common(1)[0][0] if juris[p] else "",
                "groups": ",".join(str(g) for g in sorted(groups[p])),
                "active": True,
                "updated_at": now,
            }
            if pid in existing:
                updates.append({"b_person_id": pid, **values})
            else:
                inserts.append({"person_id": pid, "created_at": now, **values})
        # One executemany / multi-row INSERT each, not a statement per person (80,000 persons
        # took most of a 200,000-record resolve(); docs/benchmarks.md, identity scale).
        if updates:
            conn.execute(sa.update(store.persons).where(store.persons.c.person_id == sa.bindparam("b_person_id")), updates)
        insert_rows(conn, store.persons, inserts)
        existing_hh = set(conn.execute(sa.select(store.households.c.household_id)).scalars())
        conn.execute(sa.update(store.households).values(active=False))
        wanted = set(hh_ids)
        again = [{"b_household_id": hid} for hid in sorted(wanted & existing_hh)]
        if again:
            conn.execute(
                sa.update(store.households)
                .where(store.households.c.household_id == sa.bindparam("b_household_id"))
                .values(active=True),
                again,
            )
        insert_rows(
            conn,
            store.households,
            [{"household_id": hid, "active": True, "created_at": now} for hid in sorted(wanted - existing_hh)],
        )

    @staticmethod
    def _write_assignments(
        conn: sa.Connection, stored: _Stored, person_index: np.ndarray, person_ids: list[str], conf: np.ndarray
    ) -> None:
        """Store the assignments that changed; deleted records lose theirs.

        A re-resolution over mostly unchanged data writes a few rows, not one per record.
        """
        a, r = store.assignments.c, store.records.c
        conn.execute(
            sa.delete(store.assignments).where(
                a.record_id.in_(sa.select(r.id).where(r.deleted.is_(True)).scalar_subquery())
            )
        )
        # Rounded: a refit that moves a record's confidence in the fifth decimal is not a change
        # worth rewriting its row for.
        new_conf = np.where(conf > 0, np.round(conf, _CONFIDENCE_DECIMALS), np.nan)
        new_pids = np.asarray(person_ids, dtype=object)[person_index] if len(person_ids) else np.empty(0, object)
        changed = (new_pids != np.asarray(stored.person_ids, dtype=object)) | ~np.isclose(
            new_conf, stored.confidence, rtol=0.0, atol=1e-12, equal_nan=True
        )
        ids = stored.ids
        rows = sorted(np.flatnonzero(changed).tolist(), key=ids.__getitem__)  # in table order
        if not rows:
            return
        known = [ids[k] for k in rows if stored.person_ids[k] is not None]
        for s in range(0, len(known), _DELETE_CHUNK):
            conn.execute(sa.delete(store.assignments).where(a.record_id.in_(known[s : s + _DELETE_CHUNK])))
        for s in range(0, len(rows), _LOAD_CHUNK):  # bounded memory: a million rows as dicts is ~0.5 GB
            chunk = rows[s : s + _LOAD_CHUNK]
            insert_rows(
                conn,
                store.assignments,
                [
                    {"record_id": ids[k], "person_id": new_pids[k], "confidence": None if np.isnan(c) else float(c)}
                    for k, c in zip(chunk, new_conf[chunk].tolist(), strict=True)
                ],
            )

    def _events(
        self,
        conn: sa.Connection,
        now: dt.datetime,
        changes: list[Change],
        hh_changes: list[Change],
        res: Resolution,
        person_index: np.ndarray,
        ids: list[int],
        prev_map: dict[int, str],
        id_tokens: np.ndarray,
    ) -> int:
        row_of = {rid: row for row, rid in enumerate(ids)}
        rows: list[dict[str, object]] = []
        for ch in changes:
            member_rows = np.array([row_of[m] for m in ch.members if m in row_of], np.int64)
            if ch.kind == "merge":
                pmax = self._best_link(res, member_rows, ids, prev_map)
                reason = (
                    f"records of {len(ch.before)} persons now match: best linking pair probability {pmax:.3f} "
                    f"(Fellegi-Sunter, threshold {self._threshold})"
                )
            else:
                reason = self._split_reason(id_tokens, member_rows, person_index)
            rows.append(self._event_row("person", ch, reason, now))
        for ch in hh_changes:
            reason = (
                "members now share a household registration or residence token"
                if ch.kind == "merge"
                else "members no longer share a household registration or residence token"
            )
            rows.append(self._event_row("household", ch, reason, now))
        if rows:
            conn.execute(sa.insert(store.events), rows)
        return len(rows)

    @staticmethod
    def _event_row(subject: str, ch: Change, reason: str, now: dt.datetime) -> dict[str, object]:
        return {
            "subject": subject,
            "kind": ch.kind,
            "before_ids": json.dumps(list(ch.before)),
            "after_ids": json.dumps(list(ch.after)),
            "reason": reason,
            "created_at": now,
        }

    @staticmethod
    def _best_link(res: Resolution, member_rows: np.ndarray, ids: list[int], prev_map: dict[int, str]) -> float:
        i, j, p = res.pair_i, res.pair_j, res.probability
        inside = np.isin(i, member_rows) & np.isin(j, member_rows)
        best = 0.0
        for a, b, q in zip(i[inside].tolist(), j[inside].tolist(), p[inside].tolist(), strict=True):
            pa, pb = prev_map.get(ids[a]), prev_map.get(ids[b])
            if pa and pb and pa != pb:
                best = max(best, q)
        return best

    def _split_reason(self, id_tokens: np.ndarray, member_rows: np.ndarray, person_index: np.ndarray) -> str:
        groups = {int(person_index[r]) for r in member_rows}
        valid = {int(id_tokens[r]) for r in member_rows if id_tokens[r]}
        if len(valid) > 1 and len(groups) > 1:
            return "records carry different valid ID numbers (GB 11643): they cannot be one person"
        return f"records no longer match above threshold {self._threshold} (Fellegi-Sunter posterior)"

    # -- queries ---------------------------------------------------------------------------

    def load(self) -> bool:
        """Build the lookup state now (at hub start), so the first requests do not wait for it.

        Returns False when the index has never been resolved (it is built by the first
        resolve() then). A stored model from another scheme still raises IdentityError.
        """
        with self._engine.connect() as conn:
            if self._setting(conn, "model") is None:
                return False
        self._ensure_loaded()
        return True

    @property
    def ready(self) -> bool:
        """Whether the lookup state is built: a lookup then reads, it never loads the index."""
        return self._loaded is not None

    def _ensure_loaded(self) -> _Loaded:
        loaded = self._loaded
        if loaded is not None:
            return loaded
        with self._load_lock:
            if self._loaded is None:
                self._loaded = self._read_loaded()
            return self._loaded

    def refresh(self) -> bool:
        """Reload the lookup state when another process resolved since it was loaded.

        Hub replicas (and the worker processes of ``pingan hub serve --workers``) share
        one index but only one of them runs linkage; each resolution stores a new
        ``generation``, and the others call this periodically so lookups see the new
        persons. The reload happens here, off the request path; returns whether it did.
        """
        loaded = self._loaded
        if loaded is None:  # resolved elsewhere since this process started: build it here, off the request path
            with self._engine.connect() as conn:
                if self._setting(conn, "model") is None:
                    return False
            self._ensure_loaded()
            return True
        with self._engine.connect() as conn:
            generation = self._setting(conn, "generation") or ""
        if generation == loaded.generation:
            return False
        with self._load_lock:  # lookups meanwhile answer from the state loaded before
            if self._loaded is loaded:
                self._loaded = self._read_loaded()
        return True

    def _read_loaded(self) -> _Loaded:
        with self._engine.connect() as conn:
            records = self._load(conn)
            previous, mx = records.person_ids, records.matrix
            stored = self._setting(conn, "model")
            scheme_json = self._setting(conn, "scheme")
            generation = self._setting(conn, "generation") or ""
        if stored is None or any(p is None for p in previous):
            raise IdentityError("the identity index has not been resolved yet; run resolve() first")
        person_ids = sorted({p for p in previous if p})
        index_of = {pid: n for n, pid in enumerate(person_ids)}
        labels = np.array([index_of[p] for p in previous], np.int64)
        model = FellegiSunterModel.from_json(json.loads(stored))
        if model.features != FEATURES:
            raise IdentityError(
                "the stored model was fitted on other comparison features (an older scheme); run resolve() again"
            )
        scheme = ExpectedScheme.from_json(json.loads(scheme_json)) if scheme_json else self._configured
        return _Loaded(person_ids, Matcher(mx, labels, model, self._threshold), scheme, generation)

    def lookup(self, encoding: linkage_pb2.LinkageEncoding) -> list[PersonMatch]:
        """Persons a query encoding (from an adapter's Tokenize) matches, best first.

        A held valid ID number names its holders. A query asking by one other exact key
        alone (:data:`ASKED_BY_HOLDERS`: a mobile number, a landline, or a name with its
        birth date, whose exact token the adapter makes only when both were read) is
        answered by the persons holding exactly that key, each at probability 1.0: the
        probabilistic score of one agreeing field is never evidence enough (a name alone
        scored 0.95 against a record without a birth date, whatever date was asked).
        Anything else is scored like a record (``Matcher.match``).
        """
        loaded = self._ensure_loaded()
        validate_encoding(encoding, loaded.scheme, "query encoding")
        record = EncodedRecord.from_encoding(encoding)
        tokens: dict[str, int] = {}
        for kind, token in record.tokens:  # as RecordMatrix.from_records places it (the last one)
            tokens[kind] = token_int(token)
        # A held valid ID number answers without a query matrix (most of a lookup's cost):
        # the same first step Matcher.match takes.
        matches = loaded.matcher.by_id_number(tokens.get("id_number", 0))
        if not matches:
            asked = asked_by_holders(set(tokens), {field for field, _ in record.blooms})
            if asked:
                matches = loaded.matcher.holders(asked, tokens[asked])
            else:
                matches = loaded.matcher.match(RecordMatrix.from_records([record], loaded.scheme.bloom_bits))
        return [PersonMatch(loaded.person_ids[m.label], m.probability) for m in matches]

    def person_of(self, department: str, dataset: str, local_record_id: str) -> str | None:
        r = store.records.c
        with self._engine.connect() as conn:
            return conn.execute(
                sa.select(store.assignments.c.person_id)
                .select_from(_ASSIGNED)
                .where((r.department == department) & (r.dataset == dataset) & (r.local_record_id == local_record_id))
            ).scalar()

    def records_of(self, person_id: str) -> list[RecordRef]:
        """The department records of a person (on every profile request: through the driver)."""
        return [RecordRef(*row) for row in select_rows(self._engine, _RECORDS_OF, {"person_id": person_id})]

    def person(self, person_id: str) -> PersonInfo | None:
        """Derived facts about an active person, or ``None`` (one query: the record count is a subquery)."""
        rows = select_rows(self._engine, _PERSON, {"person_id": person_id})
        if not rows:
            return None
        pid, household_id, migrant, jurisdiction, groups, record_count = rows[0]
        return PersonInfo(
            person_id=pid,
            household_id=household_id,
            migrant=bool(migrant),
            jurisdiction=jurisdiction,
            groups=tuple(int(g) for g in groups.split(",") if g),
            records=int(record_count or 0),
        )

    def persons(self) -> list[str]:
        """Active person ids."""
        with self._engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(store.persons.c.person_id)
                    .where(store.persons.c.active.is_(True))
                    .order_by(store.persons.c.person_id)
                ).scalars()
            )

    def household_members(self, household_id: str) -> list[str]:
        """Active persons of a household."""
        return [row[0] for row in select_rows(self._engine, _HOUSEHOLD_MEMBERS, {"household_id": household_id})]

    def events_since(self, seq: int = 0) -> list[IdentityEvent]:
        """Merge and split events with ``seq`` greater than the given one, oldest first."""
        e = store.events.c
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(store.events).where(e.seq > seq).order_by(e.seq)).mappings().all()
        return [
            IdentityEvent(
                seq=row["seq"],
                subject=row["subject"],
                kind=row["kind"],
                before=tuple(json.loads(row["before_ids"])),
                after=tuple(json.loads(row["after_ids"])),
                reason=row["reason"],
                created_at=row["created_at"],
            )
            for row in rows
        ]


__all__ = [
    "IdentityEvent",
    "IdentityIndex",
    "PersonInfo",
    "PersonMatch",
    "RecordRef",
    "ResolveSummary",
]
