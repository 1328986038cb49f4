"""Policy tables (SQLAlchemy; Alembic migrations in hub/policy/migrations, version
table ``alembic_version_policy``): versions, role assignments (Casbin ``g`` rules via
casbin-sqlalchemy-adapter) and the decision log used for replay until the audit log
takes over. No name, identity number or justification text is stored: decisions
keep the hub's person id, jurisdiction paths and whether a justification was given.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from hub.policy.bundle import PolicyBundle
from hub.policy.decision_point import DecisionRecord, SectionInputs, outcome_text
from hub.policy.errors import AdministrationError, NotFoundError
from hub.policy.jurisdiction import RoleAssignment
from hub.policy.model import FieldInfo
from pingan.bulk_insert import insert_rows

VERSION_TABLE = "alembic_version_policy"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

PROPOSED, ACTIVE, SUPERSEDED, REJECTED = "proposed", "active", "superseded", "rejected"


class Base(DeclarativeBase):
    pass


class PolicyCasbinRule(Base):
    """Casbin rules stored through casbin-sqlalchemy-adapter (here: g role assignments)."""

    __tablename__ = "policy_casbin_rule"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    ptype: Mapped[str] = mapped_column(sa.String(255))
    v0: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    v1: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    v2: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    v3: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    v4: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    v5: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)

    def __str__(self) -> str:  # the adapter loads rows through str(row)
        vals = [v for v in (self.v0, self.v1, self.v2, self.v3, self.v4, self.v5) if v is not None]
        return ", ".join([self.ptype, *vals])


class PolicyVersionRow(Base):
    __tablename__ = "policy_versions"
    hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(16), index=True)
    proposed_by: Mapped[str] = mapped_column(sa.String(255))
    approved_by: Mapped[str] = mapped_column(sa.String(255), default="")
    proposed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    activated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    bundle_json: Mapped[str] = mapped_column(sa.Text)
    report_json: Mapped[str] = mapped_column(sa.Text, default="{}")


class PolicyDecisionLogRow(Base):
    __tablename__ = "policy_decision_log"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    request_id: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(16))
    policy_hash: Mapped[str] = mapped_column(sa.String(64))
    engine: Mapped[str] = mapped_column(sa.String(16))
    user_id: Mapped[str] = mapped_column(sa.String(255))
    subject_department: Mapped[str] = mapped_column(sa.String(64))
    claimed_roles: Mapped[str] = mapped_column(sa.Text)  # JSON list
    assignments: Mapped[str] = mapped_column(sa.Text)  # JSON list of [role, scope]
    purpose: Mapped[str] = mapped_column(sa.String(64))
    justification_provided: Mapped[bool] = mapped_column(sa.Boolean)
    person_ref: Mapped[str] = mapped_column(sa.String(64))
    person_jurisdiction: Mapped[str] = mapped_column(sa.String(128))
    groups: Mapped[str] = mapped_column(sa.Text)  # JSON list
    department: Mapped[str] = mapped_column(sa.String(64))
    dataset: Mapped[str] = mapped_column(sa.String(64))
    fields: Mapped[str] = mapped_column(sa.Text)  # JSON list of {name, category, grade, type}
    request_time: Mapped[str] = mapped_column(sa.String(40))
    emergency: Mapped[bool] = mapped_column(sa.Boolean)
    allow: Mapped[bool] = mapped_column(sa.Boolean)
    outcome: Mapped[str] = mapped_column(sa.Text)  # JSON


@dataclass(frozen=True)
class StoredVersion:
    hash: str
    state: str
    proposed_by: str
    approved_by: str
    proposed_at: datetime
    activated_at: datetime | None
    description: str
    bundle: PolicyBundle
    report: dict

    @property
    def content_hash(self) -> str:
        """The version's SHA-256 content hash (same as ``hash``)."""
        return self.hash


def migrate(database_url: str) -> None:
    """Bring the policy tables to the newest migration."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(cfg, "head")


def _utc(dt: datetime | None) -> datetime | None:
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt


_DECISION_LOG: sa.Table = PolicyDecisionLogRow.__table__  # type: ignore[assignment]


@functools.lru_cache(maxsize=1024)
def _fields_json(fields: tuple[FieldInfo, ...]) -> str:
    """A dataset's field list as logged: the same few lists recur in every decision."""
    return json.dumps([{"name": f.name, "category": f.category, "grade": f.grade, "type": f.type} for f in fields])


class PolicyStore:
    """Versions, assignments and the decision log on one database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(bind=engine, expire_on_commit=False)

    @staticmethod
    def connect(database_url: str, *, upgrade: bool = True) -> PolicyStore:
        if upgrade:
            migrate(database_url)
        return PolicyStore(sa.create_engine(database_url))

    def session(self) -> Session:
        return self._session()

    # ------------------------------------------------------------------ versions

    @staticmethod
    def _stored(row: PolicyVersionRow) -> StoredVersion:
        return StoredVersion(
            row.hash, row.state, row.proposed_by, row.approved_by or "", _utc(row.proposed_at),  # type: ignore[arg-type]
            _utc(row.activated_at), row.description or "", PolicyBundle(json.loads(row.bundle_json)),
            json.loads(row.report_json or "{}"),
        )

    def versions(self) -> list[StoredVersion]:
        with self.session() as s:
            rows = s.scalars(sa.select(PolicyVersionRow).order_by(PolicyVersionRow.proposed_at.desc(), PolicyVersionRow.hash)).all()
            return [self._stored(r) for r in rows]

    def get(self, content_hash: str) -> StoredVersion:
        with self.session() as s:
            row = s.get(PolicyVersionRow, content_hash)
            if row is None:
                raise NotFoundError(f"no policy version {content_hash}")
            return self._stored(row)

    def find(self, content_hash: str) -> StoredVersion | None:
        try:
            return self.get(content_hash)
        except NotFoundError:
            return None

    def active(self) -> StoredVersion | None:
        with self.session() as s:
            row = s.scalars(sa.select(PolicyVersionRow).where(PolicyVersionRow.state == ACTIVE)).first()
            return self._stored(row) if row else None

    def add_version(self, bundle: PolicyBundle, *, state: str, by: str, description: str, report: dict) -> StoredVersion:
        now = datetime.now(UTC)
        with self.session() as s, s.begin():
            row = s.get(PolicyVersionRow, bundle.content_hash)
            if row is not None:
                if row.state in (ACTIVE, PROPOSED, SUPERSEDED):
                    raise AdministrationError(f"version {bundle.content_hash} already exists ({row.state})")
                s.delete(row)  # a rejected proposal may be proposed again
                s.flush()
            row = PolicyVersionRow(
                hash=bundle.content_hash, state=state, proposed_by=by, approved_by="", proposed_at=now,
                activated_at=now if state == ACTIVE else None, description=description,
                bundle_json=json.dumps(dict(bundle.files), ensure_ascii=False), report_json=json.dumps(report, ensure_ascii=False),
            )
            if state == ACTIVE:
                s.execute(sa.update(PolicyVersionRow).where(PolicyVersionRow.state == ACTIVE).values(state=SUPERSEDED))
            s.add(row)
        return self.get(bundle.content_hash)

    def activate(self, content_hash: str, *, approved_by: str | None, expect_states: Iterable[str]) -> StoredVersion:
        """In one transaction: the active version becomes superseded and ``content_hash`` active."""
        now = datetime.now(UTC)
        with self.session() as s, s.begin():
            row = s.get(PolicyVersionRow, content_hash, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no policy version {content_hash}")
            if row.state not in set(expect_states):
                raise AdministrationError(f"version {content_hash[:12]} is {row.state}")
            s.execute(
                sa.update(PolicyVersionRow).where(PolicyVersionRow.state == ACTIVE, PolicyVersionRow.hash != content_hash).values(state=SUPERSEDED)
            )
            row.state = ACTIVE
            row.activated_at = now
            if approved_by is not None:
                row.approved_by = approved_by
        return self.get(content_hash)

    # ------------------------------------------------------------------ assignments

    def adapter(self):
        from casbin_sqlalchemy_adapter import Adapter

        return Adapter(self.engine, db_class=PolicyCasbinRule, create_all_models=False)

    def add_assignments(self, assignments: Iterable[RoleAssignment]) -> int:
        """Insert many ``g`` rules in one transaction (the adapter's add_policies commits per row)."""
        rows = [{"ptype": "g", "v0": a.user_id, "v1": a.role, "v2": a.scope} for a in assignments]
        if rows:
            with self.session() as s, s.begin():
                s.execute(sa.insert(PolicyCasbinRule), rows)
        return len(rows)

    def remove_assignment(self, a: RoleAssignment) -> None:
        self.adapter().remove_policy("g", "g", [a.user_id, a.role, a.scope])

    def assignments(self) -> list[RoleAssignment]:
        """Every stored role assignment, loaded through casbin-sqlalchemy-adapter."""
        from casbin.model import Model

        model = Model()
        model.load_model_from_text("[request_definition]\nr = sub, dom, obj, act\n[policy_definition]\np = sub, obj, act, eft\n"
                                   "[role_definition]\ng = _, _, _\n[policy_effect]\ne = some(where (p.eft == allow))\n"
                                   "[matchers]\nm = r.sub == p.sub\n")
        self.adapter().load_policy(model)
        return [RoleAssignment(*rule[:3]) for rule in model.model["g"]["g"].policy]

    # ------------------------------------------------------------------ decision log

    def record(self, records: Sequence[DecisionRecord]) -> None:
        now = datetime.now(UTC)
        rows = []
        for r in records:
            i = r.inputs
            rows.append({
                "recorded_at": now, "request_id": i.request_id[:64], "kind": i.kind, "policy_hash": r.policy_hash,
                "engine": r.engine, "user_id": i.user_id, "subject_department": i.subject_department,
                "claimed_roles": json.dumps(list(i.claimed_roles)), "assignments": json.dumps([list(p) for p in i.assignments]),
                "purpose": i.purpose[:64], "justification_provided": i.justification_provided, "person_ref": i.person_ref[:64],
                "person_jurisdiction": i.person_jurisdiction[:128], "groups": json.dumps(list(i.groups)),
                "department": i.department[:64], "dataset": i.dataset[:64],
                "fields": _fields_json(i.fields),
                "request_time": i.time[:40], "emergency": i.emergency, "allow": r.allow,
                "outcome": r.outcome_json or outcome_text(r.outcome),
            })
        # The driver's executemany, not an ORM bulk insert: this runs for every profile.
        with self.engine.begin() as conn:
            insert_rows(conn, _DECISION_LOG, rows)

    def recent_decisions(self, limit: int) -> list[tuple[SectionInputs, dict, str]]:
        """The last ``limit`` recorded decisions: (inputs, outcome, policy hash), oldest first."""
        with self.session() as s:
            rows = s.scalars(sa.select(PolicyDecisionLogRow).order_by(PolicyDecisionLogRow.id.desc()).limit(limit)).all()
        out = []
        for row in reversed(rows):
            inputs = SectionInputs(
                kind=row.kind, request_id=row.request_id, user_id=row.user_id, subject_department=row.subject_department,
                claimed_roles=tuple(json.loads(row.claimed_roles)), assignments=tuple(tuple(p) for p in json.loads(row.assignments)),  # type: ignore[misc]
                purpose=row.purpose, justification_provided=row.justification_provided, person_ref=row.person_ref,
                person_jurisdiction=row.person_jurisdiction, groups=tuple(json.loads(row.groups)), department=row.department,
                dataset=row.dataset, fields=tuple(FieldInfo(**f) for f in json.loads(row.fields)), time=row.request_time,
                emergency=row.emergency,
            )
            out.append((inputs, json.loads(row.outcome), row.policy_hash))
        return out
