"""The department adapter's gRPC server (``pingan.v1.DepartmentAdapter``).

Built from one configuration file (docs/adapters.md) with
:meth:`AdapterServer.from_config`, which runs every start-up check and the
state-database migrations before anything listens. Every servicer method is
wrapped with :func:`pingan.serving.grpc_errors` (no stack trace ever reaches a
caller); health checking and reflection are registered. Every FetchRecords,
StreamLinkage and Tokenize - refused ones included - is written to the adapter's
own access log before data leaves; when that write fails, no data leaves
(fail closed). With ``[witness]``, FetchRecords first verifies the hub's signed
audit checkpoint (adapters/witness.py) and refuses before reading any data.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Container, Iterator
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp

from adapters.alerts import DEFAULT_LIMIT, MAX_LIMIT, check_alert_queries, datasets_of, list_alerts
from adapters.config import parse_config
from adapters.errors import ConfigError, WatermarkError
from adapters.fetch import build_record, plan_fetch
from adapters.introspect import check_columns
from adapters.linkage.encoder import LinkageEncoder
from adapters.linkage.errors import LinkageError
from adapters.linkage.secret import load_secret
from adapters.model import AdapterConfig, TlsConfig
from adapters.source import DepartmentSource, create_engine, describe_url
from adapters.state import AccessEntry, StateStore, migrate, tune
from adapters.stream import DEFAULT_BATCH, MAX_BATCH, batches
from adapters.watermark import decode
from adapters.witness import SIZE_METADATA_KEY, Witness, WitnessError
from adapters.witness import detail as witness_detail
from audit.errors import AuditError
from pingan.decoding import DecodeGuard
from pingan.serving import (
    StatusError,
    add_standard_services,
    failed_precondition,
    grpc_errors,
    invalid_argument,
    mark_serving,
    unavailable,
)
from pingan.tls import (
    RequirePeerInterceptor,
    RevocationList,
    TlsConfigError,
    require_peer,
    server_credentials,
)
from pingan.v1 import adapter_pb2, adapter_pb2_grpc, linkage_pb2

log = logging.getLogger(__name__)

SERVICE_NAME = adapter_pb2.DESCRIPTOR.services_by_name["DepartmentAdapter"].full_name
MAX_RECEIVE_BYTES = 4 * 1024 * 1024
MAX_SEND_BYTES = 64 * 1024 * 1024
CALLER_METADATA_KEY = "x-pingan-caller"
MAX_QUERY_VALUE_LENGTH = 256


def caller_of(context: grpc.ServicerContext) -> tuple[str, str]:
    """(caller identity, peer address): the mTLS certificate's common name, else the caller metadata."""
    caller = ""
    try:
        auth = context.auth_context() or {}
    except Exception:  # noqa: BLE001 - no auth context on insecure channels in some grpc builds
        auth = {}
    names = auth.get("x509_common_name") or []
    if names:
        caller = "cn:" + names[0].decode("utf-8", "replace")
    else:
        for key, value in context.invocation_metadata() or ():
            if key == CALLER_METADATA_KEY and isinstance(value, str):
                caller = value[:256]
                break
    return caller, context.peer() or ""


EXEMPT_FROM_PEER_CHECK = ("/grpc.health.v1.Health/", "/grpc.reflection.")
"""Methods any TLS client of our CA may call: health checking and reflection carry no data."""


class HubOnlyInterceptor(RequirePeerInterceptor):
    """Admit only certificates with role ``hub`` (and, if listed, one of ``hub_names``), not revoked.

    ``require_peer`` does the role, client-auth and CRL checks (docs/security.md);
    the name check narrows "a hub of our CA" to the hubs this department chose.
    """

    def __init__(self, hub_names: tuple[str, ...], revoked_serials: Container[int] | None) -> None:
        super().__init__({"hub"}, revoked_serials, exempt_prefixes=EXEMPT_FROM_PEER_CHECK)
        self.hub_names = frozenset(hub_names)

    def _guard(self, behavior: Any) -> Any:
        def guarded(request: Any, context: Any) -> Any:
            try:
                peer = require_peer(context, self.roles, self.revoked_serials)
                if self.hub_names and peer.name not in self.hub_names:
                    raise StatusError(
                        grpc.StatusCode.PERMISSION_DENIED,
                        f"hub certificate {peer.name!r} is not one this department serves (tls.hub_names)",
                    )
            except StatusError as exc:
                context.abort(exc.code, exc.message)
            return behavior(request, context)

        return guarded


@dataclass(frozen=True, slots=True)
class ServingTls:
    """What ``[tls]`` turns into at start: server credentials and the hub-only interceptor."""

    credentials: grpc.ServerCredentials
    interceptor: HubOnlyInterceptor


def serving_tls(config: AdapterConfig) -> ServingTls:
    """Read ``[tls]``'s PEM files now, so a bad file fails the start naming file and key."""
    tls = config.tls
    assert tls is not None
    try:
        credentials = server_credentials(tls.cert_file, tls.key_file, tls.ca_file)
        revoked = RevocationList(tls.crl_file, tls.ca_file) if tls.crl_file is not None else None
    except TlsConfigError as exc:
        raise ConfigError(f"{config.path}: tls.{_tls_key_of(tls, str(exc))}: {exc}") from None
    if revoked is None:
        log.warning(
            "%s: [tls] has no crl_file: a revoked hub certificate is accepted until it expires "
            "(set tls.crl_file to the CA's crl.pem)",
            config.path,
        )
    return ServingTls(credentials, HubOnlyInterceptor(tls.hub_names, revoked))


def _witness_of(config: AdapterConfig, state: StateStore) -> Witness | None:
    """``[witness]`` turned into a checker over the state database; a bad key fails the start."""
    if config.witness is None:
        return None
    try:
        return Witness.load(config.witness, state.engine, state.begin)
    except AuditError as exc:
        raise ConfigError(f"{config.path}: witness.hub_key_file: {exc}") from None


def _tls_key_of(tls: TlsConfig, message: str) -> str:
    """Which ``[tls]`` key names the file a ``TlsConfigError`` message starts with."""
    for key in ("crl_file", "key_file", "cert_file", "ca_file"):
        file = getattr(tls, key)
        if file is not None and message.startswith(f"{file}:"):
            return key
    return "cert_file"


def _db_unavailable(department: str, exc: sa.exc.DBAPIError) -> StatusError:
    kind = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
    return unavailable(f"department {department!r}: its database is unavailable ({kind}); try again later")


class AdapterServicer(adapter_pb2_grpc.DepartmentAdapterServicer):
    """Serves one department's datasets from its database."""

    def __init__(
        self,
        config: AdapterConfig,
        source: DepartmentSource,
        state: StateStore,
        encoder: LinkageEncoder,
        witness: Witness | None = None,
    ) -> None:
        self.config = config
        self.source = source
        self.state = state
        self.encoder = encoder
        self.witness = witness

    # -- Describe ----------------------------------------------------------------

    @grpc_errors
    def Describe(self, request: adapter_pb2.DescribeRequest, context: grpc.ServicerContext) -> Any:
        return adapter_pb2.DescribeResponse(
            department=self.config.department,
            display_name=self.config.display_name,
            datasets=[
                adapter_pb2.DatasetSpec(
                    name=ds.name,
                    description=ds.description,
                    fields=[
                        adapter_pb2.FieldSpec(
                            name=spec.name,
                            type=spec.value_type,
                            classification=spec.classification,
                            description=spec.description,
                        )
                        for spec in ds.exported_fields
                    ],
                    groups=ds.group_values,
                )
                for ds in self.config.datasets
            ],
            linkage_scheme=self.encoder.scheme(),
        )

    # -- FetchRecords ------------------------------------------------------------

    @grpc_errors
    def FetchRecords(self, request: adapter_pb2.FetchRecordsRequest, context: grpc.ServicerContext) -> Any:
        caller, peer = caller_of(context)

        def entry(
            dataset: str,
            ids: tuple[str, ...],
            fields: tuple[str, ...],
            count: int,
            outcome: str,
            detail: str = "",
        ) -> AccessEntry:
            return AccessEntry(
                rpc="FetchRecords",
                caller=caller,
                peer=peer,
                request_id=request.request_id[:128],
                purpose=request.purpose[:256],
                dataset=dataset[:128],
                record_ids=ids,
                fields=fields,
                record_count=count,
                outcome=outcome,
                detail=detail,
            )

        try:
            plans = plan_fetch(self.config, request)
        except StatusError as exc:
            refused = [
                entry(
                    f.dataset,
                    tuple(rid[:256] for rid in f.local_record_ids[:1000]),
                    tuple(name[:128] for name in f.fields[:1000]),
                    0,
                    exc.code.name,
                    exc.message,
                )
                for f in request.fetches[:50]
            ]
            self._log_refusal(*(refused or [entry("", (), (), 0, exc.code.name, exc.message)]))
            raise
        witnessed = ""
        if self.witness is not None:
            witnessed = self._check_witness(request, context, plans, entry)
        read_at = Timestamp()
        read_at.FromDatetime(dt.datetime.now(dt.UTC))
        response = adapter_pb2.FetchRecordsResponse(read_at=read_at)
        entries: list[AccessEntry] = []
        try:
            for plan in plans:
                ds = plan.dataset
                rows = self.source.fetch(ds.name, plan.record_ids, [*plan.columns, ds.updated_at_column])
                found = 0
                for rid in plan.record_ids:
                    row = rows.get(rid)
                    if row is None:
                        response.missing.append(f"{ds.name}/{rid}")
                        continue
                    response.records.append(build_record(self.config.department, plan, rid, row))
                    found += 1
                entries.append(
                    entry(ds.name, plan.record_ids, tuple(f.name for f in plan.fields), found, "OK", witnessed)
                )
        except sa.exc.DBAPIError as exc:
            error = _db_unavailable(self.config.department, exc)
            log.warning(
                "FetchRecords %s: department database unavailable: %s",
                request.request_id[:128],
                type(exc.orig).__name__,
            )
            self._log_refusal(
                entry(plans[0].dataset.name, plans[0].record_ids, (), 0, error.code.name, error.message)
            )
            raise error from None
        self._record(*entries)
        return response

    def _check_witness(
        self, request: adapter_pb2.FetchRecordsRequest, context: grpc.ServicerContext, plans: Any, entry: Any
    ) -> str:
        """``[witness]``: verify the hub's checkpoint before any data is read (adapters/witness.py).

        Returns the access-log detail; a refusal is logged per dataset and raised as
        FAILED_PRECONDITION, with trailing metadata ``pingan-witness-size`` when only
        the proof's starting size was wrong.
        """
        assert self.witness is not None
        w = request.witness
        try:
            return self.witness.check(
                w.checkpoint, w.entry_index, list(w.consistency_proof), w.proof_from_size
            ).detail
        except WitnessError as exc:
            error = failed_precondition(exc.message)
            text = f"{witness_detail(w.entry_index, exc.checkpoint_size)}: {exc.message}"
            if exc.need_size is not None:
                context.set_trailing_metadata(((SIZE_METADATA_KEY, str(exc.need_size)),))
        except sa.exc.SQLAlchemyError as exc:
            log.error("witness state unavailable (%s); refusing to release data", type(exc).__name__)
            error = unavailable(
                f"department {self.config.department!r}: its witness state cannot be read or written, so no "
                "data is released; try again later"
            )
            text = f"{witness_detail(w.entry_index, None)}: {error.message}"
        self._log_refusal(
            *(entry(p.dataset.name, p.record_ids, tuple(f.name for f in p.fields), 0, error.code.name, text) for p in plans)
        )
        raise error

    # -- StreamLinkage -----------------------------------------------------------

    @grpc_errors
    def StreamLinkage(
        self, request: adapter_pb2.StreamLinkageRequest, context: grpc.ServicerContext
    ) -> Iterator[adapter_pb2.StreamLinkageResponse]:
        caller, peer = caller_of(context)
        if request.batch_size < 0 or request.batch_size > MAX_BATCH:
            raise invalid_argument(f"batch_size must be between 0 (default {DEFAULT_BATCH}) and {MAX_BATCH}")
        try:
            watermark = decode(request.after_watermark)
        except WatermarkError as exc:
            raise invalid_argument(f"after_watermark: {exc}") from None
        self._record(
            AccessEntry(
                rpc="StreamLinkage",
                caller=caller,
                peer=peer,
                request_id="",
                purpose="linkage",
                dataset="*",
                detail="resume" if request.after_watermark else "full",
            )
        )
        size = request.batch_size or DEFAULT_BATCH
        try:
            for response in batches(self.config, self.source, self.encoder, watermark, size):
                yield response
                try:
                    self.state.remember_position(caller, response.watermark, len(response.records))
                except (
                    sa.exc.SQLAlchemyError
                ) as exc:  # operational bookkeeping only; the client holds its watermark
                    log.warning("cannot store the last-served linkage position: %s", type(exc).__name__)
        except sa.exc.DBAPIError as exc:
            raise _db_unavailable(self.config.department, exc) from None

    # -- Tokenize ----------------------------------------------------------------

    @grpc_errors
    def Tokenize(self, request: adapter_pb2.TokenizeRequest, context: grpc.ServicerContext) -> Any:
        caller, peer = caller_of(context)
        query = request.query
        given = tuple(k for k in ("id_number", "name", "birth_date", "phone") if getattr(query, k))
        if not given:
            raise invalid_argument("query is empty: give an id_number, a phone, or a name with a birth_date")
        for kind in given:
            if len(getattr(query, kind)) > MAX_QUERY_VALUE_LENGTH:
                raise invalid_argument(f"query.{kind} is longer than {MAX_QUERY_VALUE_LENGTH} characters")
        if len(request.request_id) > 128:
            raise invalid_argument("request_id is longer than 128 characters")
        self._record(
            AccessEntry(
                rpc="Tokenize",
                caller=caller,
                peer=peer,
                request_id=request.request_id,
                purpose="",
                dataset="",
                fields=given,
            )
        )
        encoding: linkage_pb2.LinkageEncoding = self.encoder.encode_query(query)
        return adapter_pb2.TokenizeResponse(encoding=encoding)

    # -- ListAlerts --------------------------------------------------------------

    @grpc_errors
    def ListAlerts(self, request: adapter_pb2.ListAlertsRequest, context: grpc.ServicerContext) -> Any:
        caller, peer = caller_of(context)
        if len(request.request_id) > 128:
            raise invalid_argument("request_id is longer than 128 characters")
        if not 0 <= request.limit <= MAX_LIMIT:
            raise invalid_argument(f"limit must be between 0 (default {DEFAULT_LIMIT}) and {MAX_LIMIT}")
        since: dt.datetime | None = None
        if request.HasField("since"):
            try:
                since = request.since.ToDatetime(dt.UTC)
            except (ValueError, OverflowError):
                raise invalid_argument("since is not a valid timestamp") from None

        def entry(dataset: str, ids: tuple[str, ...], count: int, outcome: str, detail: str = "") -> AccessEntry:
            return AccessEntry(
                rpc="ListAlerts",
                caller=caller,
                peer=peer,
                request_id=request.request_id,
                purpose="alerts",
                dataset=dataset,
                record_ids=ids,
                record_count=count,
                outcome=outcome,
                detail=detail,
            )

        try:
            alerts = list_alerts(self.config, self.source, since=since, limit=request.limit or DEFAULT_LIMIT)
        except sa.exc.DBAPIError as exc:
            error = _db_unavailable(self.config.department, exc)
            log.warning("ListAlerts %s: department database unavailable: %s", request.request_id[:128], type(exc).__name__)
            self._log_refusal(entry("*", (), 0, error.code.name, error.message))
            raise error from None
        self._record(
            entry(datasets_of(alerts), tuple(a.local_record_id for a in alerts), len(alerts), "OK", f"{len(alerts)} alerts")
        )
        return adapter_pb2.ListAlertsResponse(alerts=alerts)

    # -- access log --------------------------------------------------------------

    def _record(self, *entries: AccessEntry) -> None:
        try:
            self.state.record(*entries)
        except sa.exc.SQLAlchemyError as exc:
            log.error("access log write failed (%s); refusing to release data", type(exc).__name__)
            raise unavailable(
                f"department {self.config.department!r}: its access log cannot be written, so no data is "
                "released; try again later"
            ) from None

    def _log_refusal(self, *entries: AccessEntry) -> None:
        try:
            self.state.record(*entries)
        except sa.exc.SQLAlchemyError as exc:
            log.error("access log write failed for a refused request (%s)", type(exc).__name__)


class AdapterServer:
    """One department adapter: configuration, database, state, encoder and gRPC server."""

    def __init__(
        self,
        config: AdapterConfig,
        source: DepartmentSource,
        state: StateStore,
        encoder: LinkageEncoder,
        *,
        max_workers: int = 8,
        tls: ServingTls | None = None,
    ) -> None:
        self.config = config
        self.tls = tls if tls is not None or config.tls is None else serving_tls(config)
        self.source = source
        self.state = state
        self.servicer = AdapterServicer(config, source, state, encoder, _witness_of(config, state))
        self.max_workers = max_workers
        self._server: grpc.Server | None = None
        self._health: Any = None
        self._port = 0

    @classmethod
    def from_config(cls, path: str | Path, *, max_workers: int = 8) -> AdapterServer:
        """Load, validate and check ``path`` against the databases; ConfigError names file and key."""
        config = parse_config(path)
        tls = serving_tls(config) if config.tls is not None else None
        try:
            secret = load_secret(secret_file=config.secret_file, secret_env=config.secret_env)
        except LinkageError as exc:
            key = "linkage.secret_file" if config.secret_file else "linkage.secret_env"
            raise ConfigError(f"{config.path}: {key}: {exc}") from None
        encoder = LinkageEncoder(secret)
        source = DepartmentSource(config)
        try:
            source.open()
            check_columns(config, source)
            check_alert_queries(config, source)
            state_engine = create_engine(config, config.state_url, "state.url")
            tune(state_engine)
            try:
                migrate(state_engine)
            except sa.exc.DBAPIError as exc:
                state_engine.dispose()
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
                raise ConfigError(
                    f"{config.path}: state.url: cannot open or migrate the state database "
                    f"{describe_url(config.state_url)}: {reason}"
                ) from None
        except BaseException:
            source.dispose()
            raise
        return cls(config, source, StateStore(state_engine), encoder, max_workers=max_workers, tls=tls)

    def start(self, credentials: grpc.ServerCredentials | None = None) -> int:
        """Listen on ``server.listen`` (port 0 picks one); return the bound port.

        With ``[tls]`` configured and no ``credentials`` given, serve mutual TLS from
        it; either way, ``[tls]`` makes every method but health and reflection
        answer only the hub's certificate (:class:`HubOnlyInterceptor`).
        """
        if credentials is None and self.tls is not None:
            credentials = self.tls.credentials
        server = grpc.server(
            futures.ThreadPoolExecutor(
                max_workers=self.max_workers, thread_name_prefix=f"adapter-{self.config.department}"
            ),
            options=[
                ("grpc.max_receive_message_length", MAX_RECEIVE_BYTES),
                ("grpc.max_send_message_length", MAX_SEND_BYTES),
                # gRPC turns SO_REUSEPORT on by default: a second adapter on the same port would
                # start and silently take half the hub's calls. Refuse the port instead.
                ("grpc.so_reuseport", 0),
            ],
            # The peer check, then undecodable requests answer INVALID_ARGUMENT (pingan/decoding.py).
            interceptors=[*([self.tls.interceptor] if self.tls is not None else []), DecodeGuard()],
        )
        adapter_pb2_grpc.add_DepartmentAdapterServicer_to_server(self.servicer, server)
        self._health = add_standard_services(server, [SERVICE_NAME])
        listen = self.config.server.listen
        try:
            port = (
                server.add_secure_port(listen, credentials)
                if credentials is not None
                else server.add_insecure_port(listen)
            )
        except RuntimeError as exc:
            raise ConfigError(
                f"{self.config.path}: server.listen: cannot listen on {listen}: {exc}"
            ) from None
        if port == 0:
            raise ConfigError(f"{self.config.path}: server.listen: cannot listen on {listen}")
        server.start()
        mark_serving(self._health, [SERVICE_NAME])
        self._server = server
        self._port = port
        log.info("adapter %s listening on %s", self.config.department, self.address)
        return port

    @property
    def port(self) -> int:
        return self._port

    @property
    def address(self) -> str:
        """host:port the server is bound to (after :meth:`start`)."""
        host = self.config.server.listen.rsplit(":", 1)[0]
        return f"{host}:{self._port}"

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        assert self._server is not None, "start() first"
        return self._server.wait_for_termination(timeout)

    def stop(self, grace: float | None = None) -> None:
        """Stop serving (in-flight calls get ``grace`` seconds) and release both databases."""
        if self._server is not None:
            if self._health is not None:
                self._health.enter_graceful_shutdown()
            self._server.stop(grace).wait()
            self._server = None
        self.source.dispose()
        self.state.engine.dispose()
