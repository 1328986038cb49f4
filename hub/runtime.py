"""One hub process: every part built from a validated :class:`hub.config.HubConfig`.

``HubRuntime`` owns the identity index, the policy decision point and its
administration, the audit log (with its batching appender and checkpoint signer),
the adapter clients and the grpc.aio server carrying ProfileService,
AuditService and PolicyAdmin (plus health and reflection). The hub is stateless
apart from its databases, so several runtimes can serve one PostgreSQL
(docs/operations.md).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import sqlalchemy as sa

from audit.appender import BatchingAppender
from audit.checkpoint import NoteSigner
from audit.entry import IdentityMergeEntry, IdentitySplitEntry, PolicyChangeEntry, now_rfc3339
from audit.errors import AuditError, KeyFileError
from audit.sealed import Keyring
from audit.service import add_to_server as add_audit_service
from audit.store import AuditLog, CheckpointPolicy, EntryFilter
from audit.writer_process import WriterProcess
from hub.alerts.feed import AlertFeed
from hub.auth.caller import Caller
from hub.auth.gate import CallerGate
from hub.config import HubConfig
from hub.database import hub_engine
from hub.departments.certificate_check import AdapterCertificateCheck
from hub.departments.client import DepartmentClient, adapter_certificate_name, pinned_adapter_options
from hub.departments.witness import WitnessSource
from hub.errors import ConfigError
from hub.identity.errors import IdentityError
from hub.identity.index import IdentityIndex, ResolveSummary
from hub.identity.pull import PullResult, pull
from hub.masking.context import MIN_PSEUDONYM_KEY_BYTES, MaskingContext
from hub.masking.freetext import default_masker
from hub.policy.admin_service import PolicyAdminService
from hub.policy.admin_service import add_to_server as add_policy_service
from hub.policy.administration import PolicyAdministration
from hub.policy.bundle import PolicyBundle, default_policy_dir
from hub.policy.decision_log_process import DecisionLogProcess
from hub.policy.decision_point import PolicyDecisionPoint
from hub.policy.errors import PolicyError
from hub.policy.group_commit import DecisionLogWriter
from hub.policy.model import Subject
from hub.policy.seed_drift import warn_if_policies_dir_ignored
from hub.policy.store import PolicyStore, StoredVersion
from hub.policy.store import migrate as migrate_policy
from hub.profile.assembly import ProfileAssembler
from hub.profile.recorder import AuditRecorder
from hub.profile.resolve import PersonResolver
from hub.profile.service import ProfileServicer
from pingan import heap
from pingan.decoding import AioDecodeGuard
from pingan.serving import add_standard_services, mark_serving, permission_denied
from pingan.tls import RevocationList
from pingan.v1 import adapter_pb2_grpc, audit_pb2, policy_pb2, profile_pb2, profile_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAMES = (
    profile_pb2.DESCRIPTOR.services_by_name["ProfileService"].full_name,
    audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name,
    policy_pb2.DESCRIPTOR.services_by_name["PolicyAdmin"].full_name,
)
IDENTITY_EVENT_PREFIX = "identity-event-"


def load_key_bytes(config: HubConfig, file: Path | None, env: str | None, key: str, minimum: int) -> bytes:
    """Key material from a file (raw bytes, or hex/base64 text) or an environment variable (hex/base64)."""
    source = str(config.source or "hub.toml")
    if file is not None:
        data = file.read_bytes().strip()
    elif env is not None:
        text = os.environ.get(env)
        if not text:
            raise ConfigError(source, key, f"environment variable {env} is not set")
        data = text.strip().encode()
    else:
        raise ConfigError(source, key, "a key file or environment variable is required")
    for decode in (bytes.fromhex, base64.b64decode):
        try:
            decoded = decode(data.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            continue
        if len(decoded) >= minimum:
            return decoded
    if len(data) >= minimum:
        return data
    raise ConfigError(source, key, f"key material must be at least {minimum} bytes")


def describe_url(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(not a database URL)"


@contextlib.contextmanager
def database_errors(source: str, key: str, url: str) -> Iterator[None]:
    """Turn a database that cannot be reached, opened or driven (server down, database or
    directory missing, driver not installed) into a ConfigError naming ``key`` and the URL
    with its password hidden."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        reason = (str(exc.orig).strip().splitlines() or [""])[0] if exc.orig is not None else ""
        raise ConfigError(
            source, key, f"cannot open the database {describe_url(url)}: {reason or type(exc).__name__}"
        ) from None
    except ImportError as exc:  # sqlalchemy imports the driver when the engine is made
        raise ConfigError(
            source, key, f"no driver for the database {describe_url(url)} is installed ({exc})"
        ) from None
    except sa.exc.ArgumentError as exc:
        raise ConfigError(source, key, f"cannot use the database {describe_url(url)}: {exc}") from None


@dataclass(frozen=True, slots=True)
class LinkReport:
    pulls: tuple[PullResult, ...]
    failures: tuple[str, ...]
    summary: ResolveSummary | None
    audited_events: int


class _AuditedAdministration:
    """PolicyAdministration whose activations and rollbacks are also audit entries."""

    def __init__(self, admin: PolicyAdministration, recorder: AuditRecorder) -> None:
        self._admin = admin
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._admin, name)

    def _active_hash(self) -> str:
        active = self._admin.store.active()
        return active.content_hash if active is not None else ""

    def approve(self, caller: Subject, content_hash: str) -> StoredVersion:
        before = self._active_hash()
        version = self._admin.approve(caller, content_hash)
        self._log(version, before, caller, "activated")
        return version

    def rollback(self, caller: Subject, content_hash: str) -> StoredVersion:
        before = self._active_hash()
        version = self._admin.rollback(caller, content_hash)
        self._log(version, before, caller, "rolled_back")
        return version

    def _log(self, version: StoredVersion, before: str, caller: Subject, action: str) -> None:
        entry = PolicyChangeEntry(
            request_id=f"policy-{action}-{version.content_hash[:16]}",
            time=now_rfc3339(),
            policy="bundle",
            proposer=version.proposed_by,
            approver=caller.user_id,
            hash_before=before,
            hash_after=version.content_hash,
            action=action,
        )
        # Called from a worker thread (the servicer runs administration off the event loop).
        self._recorder.append_blocking(entry)


class HubRuntime:
    """Build with :meth:`create`, then ``await start()``; ``await stop()`` releases everything."""

    def __init__(self, config: HubConfig) -> None:
        self.config = config
        source = str(config.source or "hub.toml")
        # Everything that can fail on the configured files and databases fails here (or in
        # start()) as a ConfigError naming the file and key: ``pingan hub serve`` prints one line.
        with database_errors(source, "database.url", config.database.url):
            self.engine = hub_engine(config.database.url)
            self.identity = IdentityIndex(self.engine)
            # policy
            migrate_policy(config.database.url)
            self.policy_store = PolicyStore(self.engine)
            admin = PolicyAdministration(
                self.policy_store, self._engine_factory(), warm_decisions=config.policy.warm_decisions
            )
            if self.policy_store.active() is None:
                policies = config.policy.policies_dir or default_policy_dir()
                try:
                    bundle = PolicyBundle.from_directory(policies)
                    admin.bootstrap(bundle, by="hub-bootstrap")
                except PolicyError as exc:  # the first policy version comes from policies_dir
                    raise ConfigError(
                        source, "policy.policies_dir", f"cannot load the first policy version: {exc}"
                    ) from None
            else:  # the directory seeds the first start only: say so when it no longer matches
                warn_if_policies_dir_ignored(self.policy_store, config.policy.policies_dir)
            # Decision-log commits in a thread of this process, or in a child when configured
            # (hub/policy/decision_log_process.py; docs/benchmarks.md, "Profile load", 2026-11-23 18:22).
            self.decision_log_process = (
                DecisionLogProcess(config.database.url) if config.policy.decision_log_writer == "process" else None
            )
            self.decision_log = DecisionLogWriter(self.decision_log_process or self.policy_store)
            self.pdp = PolicyDecisionPoint(
                admin.load_active(),
                recorder=self.decision_log,
                memo_size=config.policy.memo_entries,
                verdict_size=config.policy.verdict_entries,
            )
            admin.pdp = self.pdp
            admin.warm(self.pdp.policy)
        # audit
        try:
            signer = NoteSigner.load(config.audit.signing_key_file)
        except KeyFileError as exc:
            raise ConfigError(source, "audit.signing_key_file", str(exc)) from None
        keyring = self._keyring()  # before the writer child starts: a bad key file leaves nothing running
        with database_errors(source, self._audit_url_key(), config.audit_url):
            self.audit_log = AuditLog(
                config.audit_url,
                signer=signer,
                policy=CheckpointPolicy(config.audit.checkpoint_every_entries, config.audit.checkpoint_every_seconds),
            )
        # Group commits run in a child process unless configured otherwise (audit/writer_process.py).
        self.audit_writer = WriterProcess(self.audit_log) if config.audit.writer == "process" else None
        self.recorder = AuditRecorder(self.audit_log, BatchingAppender(self.audit_writer or self.audit_log), keyring)
        self.admin = _AuditedAdministration(admin, self.recorder)
        # masking
        pseudonym = load_key_bytes(
            config,
            config.masking.pseudonym_key_file,
            config.masking.pseudonym_key_env,
            "masking.pseudonym_key_file",
            MIN_PSEUDONYM_KEY_BYTES,
        )
        self.masking = MaskingContext(pseudonym_key=pseudonym)
        # departments: grpc.aio channels belong to an event loop, so they are made in start()
        self.clients: dict[str, DepartmentClient] = {}
        self.alerts: AlertFeed | None = None  # made in start(), on the event loop (docs/alerts.md)
        # callers
        self.gate = CallerGate.from_config(config.auth)
        self.server: grpc.aio.Server | None = None
        self.port = 0
        self.share_port = False  # set by hub/workers.py: several processes serve one port
        self._tasks: list[asyncio.Task[None]] = []
        self._revoked: RevocationList | None = None  # [tls] crl_file, read once it is needed

    @classmethod
    def create(cls, config: HubConfig) -> HubRuntime:
        return cls(config)

    # -- construction helpers ---------------------------------------------------------------------

    def _engine_factory(self) -> Any:
        if self.config.policy.engine == "opa":
            from hub.policy.rego_opa import OpaRego, client_for

            if not self.config.policy.opa_url:
                raise ConfigError(str(self.config.source), "policy.opa_url", "required when engine = \"opa\"")
            client = client_for(self.config.policy.opa_url, timeout=self.config.policy.decision_timeout_ms / 1000)
            return lambda bundle: OpaRego(bundle, client)
        from hub.policy.rego_embedded import EmbeddedRego

        return EmbeddedRego

    def _audit_url_key(self) -> str:
        return "audit.url" if self.config.audit.url else "database.url"

    def _keyring(self) -> Keyring | None:
        audit = self.config.audit
        if audit.sealing_key_file is not None:
            try:
                return Keyring.load(audit.sealing_key_file)
            except KeyFileError as exc:
                raise ConfigError(str(self.config.source), "audit.sealing_key_file", str(exc)) from None
        if audit.sealing_key_env is not None:
            key = load_key_bytes(self.config, None, audit.sealing_key_env, "audit.sealing_key_env", 32)
            if len(key) != 32:
                raise ConfigError(str(self.config.source), "audit.sealing_key_env", "must hold a 32-byte AES-256 key")
            return Keyring({"env": key}, "env")
        return None

    def _channel_credentials(self) -> grpc.ChannelCredentials | None:
        tls = self.config.tls
        if tls is None:
            return None
        from pingan.tls import channel_credentials

        with self._tls_files():
            return channel_credentials(str(tls.ca_file), str(tls.cert_file), str(tls.key_file))

    @contextlib.contextmanager
    def _tls_files(self) -> Iterator[None]:
        """Turn a ``TlsConfigError`` (names the file) into a ``ConfigError`` naming the ``[tls]`` key too."""
        from pingan.tls import TlsConfigError

        try:
            yield
        except TlsConfigError as exc:
            tls, message = self.config.tls, str(exc)
            key = next(
                (k for k in ("crl_file", "key_file", "cert_file", "ca_file")
                 if tls is not None and getattr(tls, k) is not None and message.startswith(f"{getattr(tls, k)}:")),
                "cert_file",
            )
            raise ConfigError(str(self.config.source), f"tls.{key}", message) from None

    def _caller_interceptors(self) -> list[grpc.aio.ServerInterceptor]:
        """With ``[tls]`` and client certificates required: only ``client`` or ``hub`` certificates, not revoked.

        The certificate is the transport identity of the calling system; the
        person is still authenticated by their token (``CallerGate``) in every
        method. Health checking and reflection are open to any certificate of our CA.
        """
        tls = self.config.tls
        if tls is None or not tls.require_client_cert:
            return []
        from pingan.tls import AioRequirePeerInterceptor

        return [
            AioRequirePeerInterceptor(
                {"client", "hub"},
                self._revocation_list(),
                exempt_prefixes=("/grpc.health.v1.Health/", "/grpc.reflection."),
            )
        ]

    def _revocation_list(self) -> RevocationList | None:
        """The CA's CRL (``[tls] crl_file``), one instance for callers and adapters; None without one."""
        tls = self.config.tls
        if tls is None or tls.crl_file is None:
            return None
        if self._revoked is None:
            with self._tls_files():
                self._revoked = RevocationList(tls.crl_file, tls.ca_file)
        return self._revoked

    def _certificate_checks(self) -> dict[str, AdapterCertificateCheck]:
        """With ``[tls] crl_file``: per adapter, the serial it presents checked against the CRL
        before every call (hub/departments/certificate_check.py). Empty without a CRL."""
        tls, revoked = self.config.tls, self._revocation_list()
        if tls is None or revoked is None:
            return {}
        from pingan.tls import client_context, identity_host

        with self._tls_files():
            context = client_context(tls.ca_file, tls.cert_file, tls.key_file)
        return {
            a.name: AdapterCertificateCheck(
                a.name, a.address, context, identity_host("adapter", adapter_certificate_name(a.name)), revoked
            )
            for a in self.config.adapters
        }

    # -- authorisation seams for the auditor and policy-owner services ----------------------------

    def _caller(self, context: Any) -> Caller:
        return self.gate.authenticate(context)

    def _subject(self, context: Any) -> Subject:
        caller = self._caller(context)
        return Subject(caller.user_id, caller.department, caller.roles, caller.jurisdictions)

    def _authorize_auditor(self, context: Any, method: str) -> None:
        caller = self._caller(context)
        if "auditor" not in caller.roles:
            raise permission_denied(f"{method} needs the auditor role")

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> int:
        # Build the free-text analyser now (about a second), not inside the first request.
        await asyncio.to_thread(default_masker)
        # Likewise the identity lookup state (seconds on a large index; a new worker process
        # would otherwise build it inside its first requests).
        try:
            await asyncio.to_thread(self.identity.load)
        except IdentityError as exc:  # lookups report it; the rest of the hub can serve
            log.warning("identity index not loaded: %s", exc)
        source = str(self.config.source)
        if self.audit_writer is not None:  # no audit log, no service: fail at start, not per request
            try:
                await asyncio.to_thread(self.audit_writer.wait_ready)
            except AuditError as exc:
                raise ConfigError(
                    source, self._audit_url_key(), f"cannot open the audit log {describe_url(self.config.audit_url)}: {exc}"
                ) from None
        if self.decision_log_process is not None:  # likewise the decision log
            try:
                await asyncio.to_thread(self.decision_log_process.wait_ready)
            except PolicyError as exc:
                raise ConfigError(
                    source, "database.url",
                    f"cannot open the decision log {describe_url(self.config.database.url)}: {exc}",
                ) from None
        credentials = self._channel_credentials()
        checks = self._certificate_checks()
        if self.config.tls is not None and self.config.tls.crl_file is None:
            log.warning(
                "%s: [tls] has no crl_file: revoked caller and adapter certificates are accepted until they "
                "expire (set tls.crl_file to the CA's crl.pem)",
                self.config.source,
            )
        self.clients = {
            a.name: DepartmentClient(
                a.endpoint(),
                credentials,
                channel_options=pinned_adapter_options(a.name) if credentials else (),
                certificate_check=checks.get(a.name),
            )
            for a in self.config.adapters
        }
        self.alerts = AlertFeed(
            self.clients, self.identity, self.pdp.decide_header, poll_seconds=self.config.alerts.poll_seconds
        )
        profile = ProfileServicer(
            self.gate,
            self.identity,
            PersonResolver(self.identity, list(self.clients.values())),
            ProfileAssembler(
                self.clients,
                self.pdp,
                self.masking,
                WitnessSource(self.audit_log),
                # SQLite reads are in-process work: no worker-thread hop for them once the
                # lookup state is built (assembly.plan)
                inline_reads=(lambda: self.identity.ready) if self.identity.engine.dialect.name == "sqlite" else None,
            ),
            self.recorder,
            self.alerts,
        )
        server = grpc.aio.server(
            options=(
                ("grpc.max_receive_message_length", 4 * 1024 * 1024),
                # Off unless this process is one of several workers sharing the port on purpose
                # (hub/workers.py): a second hub started by mistake must fail to bind, not split
                # the traffic silently.
                ("grpc.so_reuseport", 1 if self.share_port else 0),
            ),
            # Innermost: undecodable requests answer INVALID_ARGUMENT (pingan/decoding.py).
            interceptors=[*self._caller_interceptors(), AioDecodeGuard()],
        )
        profile_pb2_grpc.add_ProfileServiceServicer_to_server(profile, server)
        add_audit_service(server, self.audit_log, self._authorize_auditor)
        add_policy_service(server, PolicyAdminService(self.admin, self._subject))  # type: ignore[arg-type]
        health = add_standard_services(server, SERVICE_NAMES, aio=True)
        tls = self.config.tls
        try:
            if tls is None:
                port = server.add_insecure_port(self.config.hub.listen)
            else:
                from pingan.tls import server_credentials

                with self._tls_files():
                    creds = server_credentials(
                        str(tls.cert_file), str(tls.key_file), str(tls.ca_file), require_client_auth=tls.require_client_cert
                    )
                port = server.add_secure_port(self.config.hub.listen, creds)
        except RuntimeError:  # grpc: "Failed to bind to address ..."
            port = 0
        if port == 0:
            raise ConfigError(
                str(self.config.source),
                "hub.listen",
                "could not bind the address (in use, not an address of this machine, or a host name that "
                "does not resolve)",
            )
        await server.start()
        await mark_serving(health, SERVICE_NAMES)
        self.server, self.port = server, port
        self._tasks.append(asyncio.create_task(self._sync_from_database()))
        self.alerts.start()
        heap.settle()
        return port

    async def _sync_from_database(self) -> None:
        """Pick up what other replicas or tools changed: policy versions and role assignments,
        and a new identity resolution (only one replica or worker runs linkage)."""
        while True:
            await asyncio.sleep(self.config.policy.sync_seconds)
            try:
                if await asyncio.to_thread(self.admin.sync_active):
                    log.info("policy reloaded: version %s", self.pdp.policy.hash[:12])
            except Exception:  # keep serving on the version in force; retry next time
                log.exception("policy reload failed; keeping version %s", self.pdp.policy.hash[:12])
            try:
                if await asyncio.to_thread(self.identity.refresh):
                    log.info("identity index reloaded: resolved by another process")
                    heap.settle()
            except Exception:  # keep answering from the loaded index; retry next time
                log.exception("identity index reload failed; keeping the loaded one")

    async def stop(self, grace: float = 1.0) -> None:
        if self.alerts is not None:
            await self.alerts.stop()
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        if self.server is not None:
            await self.server.stop(grace)
            self.server = None
        for client in self.clients.values():
            await client.close()
        self.clients = {}
        self.recorder.close()
        if self.audit_writer is not None:
            self.audit_writer.close()
        self.decision_log.close()
        if self.decision_log_process is not None:
            self.decision_log_process.close()
        self.audit_log.close()
        heap.release()

    # -- linkage ----------------------------------------------------------------------------------

    def link(self, departments: Sequence[str] | None = None) -> LinkReport:
        """Pull encodings from the adapters (by watermark), resolve, and audit merges and splits."""
        pulls, failures = [], []
        checks = self._certificate_checks()
        for adapter in self.config.adapters:
            if departments is not None and adapter.name not in departments:
                continue
            check = checks.get(adapter.name)
            refusal = check.refusal_now(adapter.deadline_ms / 1000.0 + 5.0) if check is not None else None
            if refusal is not None:  # encodings from a revoked adapter must not shape the index
                failures.append(f"{adapter.name}: {refusal.message}")
                continue
            channel = self._sync_channel(adapter.address, adapter.name)
            try:
                result = pull(self.identity, adapter.name, adapter_pb2_grpc.DepartmentAdapterStub(channel))
            except Exception as exc:  # noqa: BLE001 - one department down must not stop linkage of the others
                failures.append(f"{adapter.name}: {exc}")
                continue
            finally:
                channel.close()
            pulls.append(result)
            if result.rejected:
                failures.append(f"{adapter.name}: batch rejected: {result.rejected}")
        summary = self.identity.resolve()
        audited = self._audit_identity_events()
        heap.settle()  # the new index is long-lived: keep it out of full collections
        return LinkReport(tuple(pulls), tuple(failures), summary, audited)

    def _sync_channel(self, address: str, name: str) -> grpc.Channel:
        tls = self.config.tls
        if tls is None:
            return grpc.insecure_channel(address)
        from pingan.tls import channel_credentials

        return grpc.secure_channel(
            address,
            channel_credentials(str(tls.ca_file), str(tls.cert_file), str(tls.key_file)),
            options=pinned_adapter_options(name),
        )

    def _audit_identity_events(self) -> int:
        """Append every identity merge or split not yet in the log (idempotent across restarts)."""
        last = self._last_audited_identity_event()
        events = self.identity.events_since(last)
        entries = []
        for event in events:
            request_id = f"{IDENTITY_EVENT_PREFIX}{event.seq}"
            reason = f"{event.subject}: {event.reason}"[:500]
            if event.kind == "merge":
                entries.append(
                    IdentityMergeEntry(request_id, now_rfc3339(), "resolver", tuple(event.before), ",".join(event.after), reason)
                )
            else:
                entries.append(
                    IdentitySplitEntry(request_id, now_rfc3339(), "resolver", ",".join(event.before), tuple(event.after), reason)
                )
        for entry in entries:
            self.recorder.append_blocking(entry)
        return len(entries)

    def _last_audited_identity_event(self) -> int:
        last = 0
        for kind in ("identity_merge", "identity_split"):
            start = 0
            while True:
                page = self.audit_log.query(EntryFilter(kind=kind), from_index=start, limit=1000)
                if not page:
                    break
                for stored in page:
                    request_id = stored.decode().entry.request_id
                    if request_id.startswith(IDENTITY_EVENT_PREFIX):
                        last = max(last, int(request_id.removeprefix(IDENTITY_EVENT_PREFIX)))
                start = page[-1].index + 1
        return last


async def serve_forever(runtime: HubRuntime) -> None:
    port = await runtime.start()
    log.info("hub listening on port %d", port)
    assert runtime.server is not None
    try:
        await runtime.server.wait_for_termination()
    except asyncio.CancelledError:
        pass
    finally:
        await runtime.stop()
