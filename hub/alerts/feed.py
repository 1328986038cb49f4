"""The alert feed: polls every adapter's ListAlerts, resolves persons, fans out to watchers.

REQUIREMENTS.md 8 ("alerts reach the responsible person quickly"). Each poll asks every
configured adapter for its current alerts (the department's rules decide what an
alert is; docs/alerts.md), maps each alert's (department, dataset, local record id)
to a hub person through the identity index, and replaces that department's share of
the in-memory set; a department that does not answer keeps its last known alerts.
Alert ids are stable across polls, so each watcher receives an alert once.

A watcher (WatchAlerts) first receives the current alerts it may see, then new ones
as polls find them. Visible means: the caller's jurisdiction covers the person's
(path prefix, as for profiles) and the policy's header decision for the person
allows access under :data:`hub.alerts.kinds.ALERT_PURPOSE`. Risk level and
responsible helper are fetched from the alert's record (FetchRecords, under the same
purpose and request id as the audit entry) only when that decision allows them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from hub.alerts.kinds import ALERT_PURPOSE, BUILTIN_KINDS
from hub.alerts.model import HubAlert, VisibleAlert
from hub.auth.caller import Caller
from hub.departments.client import DepartmentClient
from hub.identity.index import IdentityIndex
from hub.masking.freetext import default_masker
from hub.policy.model import Context, HeaderDecision, HeaderRequest, Subject
from hub.profile.schema import HEADER_HELPER_FIELD, HEADER_RISK_FIELD, group_name
from pingan.v1 import adapter_pb2

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 15.0
POLL_LIMIT = 5000  # the adapter's maximum per ListAlerts (adapters/alerts.py)

DecideHeader = Callable[[HeaderRequest], HeaderDecision]


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll found: current alerts, new ones, and what could not be used."""

    departments: int
    failed: tuple[str, ...]  # "department: reason"
    alerts: int
    new: int
    unresolved: int  # alerts whose record the identity index does not know (yet)


class AlertFeed:
    """Current alerts of all departments, kept in memory; create and start on the hub's event loop."""

    def __init__(
        self,
        clients: Mapping[str, DepartmentClient],
        index: IdentityIndex,
        decide_header: DecideHeader,
        *,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ) -> None:
        self._clients = dict(clients)
        self._index = index
        self._decide_header = decide_header
        self.poll_seconds = poll_seconds
        self._current: dict[str, dict[str, HubAlert]] = {}
        self._masked: dict[str, str] = {}  # department detail text -> masked text
        self._kinds_seen: set[str] = set()
        self._generation = 0
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    # -- state ------------------------------------------------------------------------------------

    @property
    def alerts(self) -> list[HubAlert]:
        """Every current alert, oldest first."""
        everything = [a for by_id in self._current.values() for a in by_id.values()]
        return sorted(everything, key=lambda a: (a.raised_at, a.alert_id))

    @property
    def known_kinds(self) -> frozenset[str]:
        return BUILTIN_KINDS | self._kinds_seen

    # -- polling ----------------------------------------------------------------------------------

    async def poll_once(self) -> PollReport:
        """Ask every adapter once, concurrently; wake the watchers when the set changed."""
        names = sorted(self._clients)
        results = await asyncio.gather(*(self._poll_department(name) for name in names))
        failed: list[str] = []
        unresolved = 0
        new = 0
        async with self._changed:
            before = {aid for by_id in self._current.values() for aid in by_id}
            for name, (alerts, error, skipped) in zip(names, results, strict=True):
                if error:
                    failed.append(f"{name}: {error}")
                    continue
                unresolved += skipped
                self._current[name] = {a.alert_id: a for a in alerts}
                self._kinds_seen.update(a.kind for a in alerts)
            after = {aid for by_id in self._current.values() for aid in by_id}
            new = len(after - before)
            if after != before:
                self._generation += 1
                self._changed.notify_all()
        if failed:
            log.warning("alert poll: %d department(s) did not answer: %s", len(failed), "; ".join(failed))
        if unresolved:
            log.info("alert poll: %d alert(s) concern records not linked to a person yet", unresolved)
        return PollReport(len(names), tuple(failed), len(after), new, unresolved)

    async def _poll_department(self, name: str) -> tuple[list[HubAlert], str, int]:
        request = adapter_pb2.ListAlertsRequest(request_id=f"alerts-poll-{uuid.uuid4().hex}", limit=POLL_LIMIT)
        result = await self._clients[name].list_alerts(request)
        if not result.ok:
            return [], result.error or "no answer", 0
        response: adapter_pb2.ListAlertsResponse = result.response  # type: ignore[assignment]
        try:
            alerts, skipped = await asyncio.to_thread(self._resolve, name, list(response.alerts))
        except sa.exc.SQLAlchemyError as exc:  # e.g. SQLite busy during linkage: keep the last set, retry next poll
            return [], f"identity index unavailable ({type(exc).__name__})", 0
        return alerts, "", skipped

    def _resolve(self, department: str, alerts: Sequence[adapter_pb2.DepartmentAlert]) -> tuple[list[HubAlert], int]:
        """Alerts whose record belongs to a known, active person (worker thread: index reads block)."""
        out: list[HubAlert] = []
        skipped = 0
        for a in alerts:
            person_id = self._index.person_of(department, a.dataset, a.local_record_id)
            info = self._index.person(person_id) if person_id else None
            if info is None:
                skipped += 1
                continue
            out.append(
                HubAlert(
                    alert_id=a.alert_id,
                    kind=a.kind,
                    department=department,
                    dataset=a.dataset,
                    local_record_id=a.local_record_id,
                    severity=a.severity,
                    detail=self._mask(a.detail),
                    raised_at=a.raised_at.ToDatetime(dt.UTC),
                    person_id=info.person_id,
                    jurisdiction=info.jurisdiction,
                    groups=tuple(info.groups),
                )
            )
        return out, skipped

    def _mask(self, detail: str) -> str:
        """The detail with any personal data a department rule let through replaced (``<PERSON>``...).

        Defence in depth behind the adapter's template check: the same Presidio analyser
        as free-text fields (hub/masking/freetext.py); if analysis fails the detail is
        withheld (empty), never passed through.
        """
        if detail not in self._masked:
            try:
                masked = default_masker().mask(detail).masked
            except Exception as exc:  # noqa: BLE001 - fail safe: withhold
                log.warning("alert detail analysis failed (%s); detail withheld", type(exc).__name__)
                return ""
            if len(self._masked) > 10_000:
                self._masked.clear()
            self._masked[detail] = masked
        return self._masked[detail]

    async def _run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - one bad poll must not end the feed
                log.error("alert poll failed (%s); retrying in %.0f s", type(exc).__name__, self.poll_seconds)
            await asyncio.sleep(self.poll_seconds)

    def start(self) -> None:
        """Start polling (the first poll runs at once) on the running event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="alert-feed")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    # -- watching ---------------------------------------------------------------------------------

    async def watch(
        self, caller: Caller, kinds: Collection[str], decide_header: DecideHeader | None = None
    ) -> AsyncIterator[VisibleAlert]:
        """Current then new alerts the caller may see (``kinds`` empty = all), until cancelled.

        Each alert is considered once per watch: one the caller may not see is not
        offered again on a later poll of the same watch.
        """
        decide = decide_header or self._decide_header
        subject = Subject(caller.user_id, caller.department, caller.roles, caller.jurisdictions)
        considered: set[str] = set()
        while True:
            async with self._changed:
                generation = self._generation
                pending = [
                    a for a in self.alerts if a.alert_id not in considered and (not kinds or a.kind in kinds)
                ]
            for alert in pending:
                considered.add(alert.alert_id)
                if not alert.jurisdiction or not caller.covers(alert.jurisdiction):
                    continue
                request_id = f"alert-{uuid.uuid4().hex}"
                request = HeaderRequest(
                    subject,
                    alert.jurisdiction,
                    tuple(sorted(group_name(g) for g in alert.groups)),
                    ALERT_PURPOSE,
                    context=Context(),
                    request_id=request_id,
                )
                decision = await asyncio.to_thread(decide, request)
                if decision.allow:
                    yield VisibleAlert(alert, decision, request_id)
            async with self._changed:
                await self._changed.wait_for(lambda seen=generation: self._generation != seen)

    async def header_values(self, visible: VisibleAlert) -> dict[str, str]:
        """Risk level and responsible helper from the alert's record, as far as the decision allows.

        Empty when not allowed, not declared by the dataset, or the department does not
        answer: the alert itself is still delivered.
        """
        decision, alert = visible.decision, visible.alert
        wanted = [f for f, ok in ((HEADER_RISK_FIELD, decision.risk_level), (HEADER_HELPER_FIELD, decision.responsible_helper)) if ok]
        client = self._clients.get(alert.department)
        if not decision.allow or not wanted or client is None:
            return {}
        described = await client.describe()
        if not described.ok:
            return {}
        spec = next((d for d in described.response.datasets if d.name == alert.dataset), None)  # type: ignore[union-attr]
        declared = {f.name for f in spec.fields} if spec is not None else set()
        fields = [f for f in wanted if f in declared]
        if not fields:
            return {}
        request = adapter_pb2.FetchRecordsRequest(
            request_id=visible.request_id,
            purpose=ALERT_PURPOSE,
            fetches=[adapter_pb2.DatasetFetch(dataset=alert.dataset, local_record_ids=[alert.local_record_id], fields=fields)],
        )
        result = await client.fetch(request)
        if not result.ok:
            log.warning("alert %s: header fields unavailable from %s", alert.kind, alert.department)
            return {}
        values: dict[str, str] = {}
        for record in result.response.records:  # type: ignore[union-attr]
            for field_ in record.fields:
                which = field_.value.WhichOneof("kind")
                if which in ("string_value", "integer_value"):
                    values[field_.name] = str(getattr(field_.value, which))
        return values
