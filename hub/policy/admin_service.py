"""PolicyAdmin gRPC servicer (grpc.aio).

The caller's identity comes from an injected ``authenticate(context) -> Subject``
(sync or async). The hub wires its JWT authentication in here;
:func:`metadata_identity_for_tests` reads ``x-pingan-user`` / ``x-pingan-roles``
metadata and is a TEST SEAM only: it trusts whatever the client sends.
Blocking work (compiling, running tests, replaying) runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from hub.policy.administration import MAX_REPLAY, CallerNotAllowed, PolicyAdministration, ProposalResult
from hub.policy.bundle import MAX_FILE_CHARS, check_path
from hub.policy.errors import AdministrationError, NotFoundError, PolicyLoadError
from hub.policy.model import Subject
from hub.policy.store import StoredVersion
from pingan.serving import (
    StatusError,
    failed_precondition,
    grpc_errors,
    invalid_argument,
    not_found,
    permission_denied,
)
from pingan.v1 import policy_pb2, policy_pb2_grpc

SERVICE_NAME = policy_pb2.DESCRIPTOR.services_by_name["PolicyAdmin"].full_name
Authenticate = Callable[[Any], "Subject | Awaitable[Subject]"]

_HASH = re.compile(r"^[0-9a-f]{64}$")
MAX_DESCRIPTION = 2000
MAX_FILES = 100


def metadata_identity_for_tests(context: Any) -> Subject:
    """TEST SEAM: identity from ``x-pingan-user`` and ``x-pingan-roles`` (comma-separated) metadata."""
    md = {k: v for k, v in (context.invocation_metadata() or ())}
    user = str(md.get("x-pingan-user", "")).strip()
    if not user:
        raise StatusError(grpc.StatusCode.UNAUTHENTICATED, "no caller identity (x-pingan-user metadata)")
    roles = tuple(r.strip() for r in str(md.get("x-pingan-roles", "")).split(",") if r.strip())
    return Subject(user_id=user, department=str(md.get("x-pingan-department", "")), roles=roles)


def _ts(dt: datetime | None) -> Timestamp | None:
    if dt is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(dt)
    return ts


def version_message(v: StoredVersion) -> policy_pb2.PolicyVersion:
    msg = policy_pb2.PolicyVersion(
        hash=v.hash, state=v.state, proposed_by=v.proposed_by, approved_by=v.approved_by, description=v.description
    )
    msg.proposed_at.CopyFrom(_ts(v.proposed_at))
    if v.activated_at is not None:
        msg.activated_at.CopyFrom(_ts(v.activated_at))
    return msg


def proposal_message(result: ProposalResult) -> policy_pb2.ProposeChangeResponse:
    return policy_pb2.ProposeChangeResponse(
        version=version_message(result.version),
        errors=[policy_pb2.PolicyError(path=d.path, line=d.line, column=d.column, message=d.message) for d in result.errors],
        tests=[policy_pb2.PolicyTestResult(name=t.name, passed=t.passed, detail=t.detail) for t in result.tests],
        impact=policy_pb2.ImpactReport(
            replayed=result.impact.replayed,
            changes=[
                policy_pb2.DecisionChange(
                    request_id=c.request_id, role=c.role, department=c.department, dataset=c.dataset, change=c.change, detail=c.detail
                )
                for group in result.impact.grouped().values()
                for c in group
            ],
        ),
    )


def _check_hash(value: str) -> str:
    value = value.strip().lower()
    if not _HASH.match(value):
        raise invalid_argument("hash must be the 64 hex digits of a policy version's SHA-256 content hash")
    return value


class PolicyAdminService(policy_pb2_grpc.PolicyAdminServicer):
    """Serves PolicyAdmin on top of :class:`PolicyAdministration`."""

    def __init__(self, admin: PolicyAdministration, authenticate: Authenticate) -> None:
        self._admin = admin
        self._authenticate = authenticate

    async def _caller(self, context: Any) -> Subject:
        subject = self._authenticate(context)
        if inspect.isawaitable(subject):
            subject = await subject
        if not isinstance(subject, Subject) or not subject.user_id:
            raise StatusError(grpc.StatusCode.UNAUTHENTICATED, "caller is not authenticated")
        return subject

    @staticmethod
    async def _run(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args)
        except CallerNotAllowed as exc:
            raise permission_denied(str(exc)) from None
        except NotFoundError as exc:
            raise not_found(str(exc)) from None
        except PolicyLoadError as exc:
            raise failed_precondition(f"policy does not compile: {exc}") from None
        except AdministrationError as exc:
            raise failed_precondition(str(exc)) from None

    @grpc_errors
    async def ListVersions(self, request: policy_pb2.ListVersionsRequest, context: Any) -> policy_pb2.ListVersionsResponse:
        caller = await self._caller(context)
        versions = await self._run(self._admin.list_versions, caller)
        return policy_pb2.ListVersionsResponse(versions=[version_message(v) for v in versions])

    @grpc_errors
    async def ProposeChange(self, request: policy_pb2.ProposeChangeRequest, context: Any) -> policy_pb2.ProposeChangeResponse:
        caller = await self._caller(context)
        if not request.files and not request.removed_paths:
            raise invalid_argument("a proposal needs at least one file or removed path")
        if len(request.files) + len(request.removed_paths) > MAX_FILES:
            raise invalid_argument(f"at most {MAX_FILES} files per proposal")
        files: dict[str, str] = {}
        for f in request.files:
            why = check_path(f.path)
            if why:
                raise invalid_argument(f"files[{f.path!r}]: {why}")
            if f.path in files:
                raise invalid_argument(f"files[{f.path!r}] is given twice")
            if not f.content.strip():
                raise invalid_argument(f"files[{f.path!r}] is empty; use removed_paths to delete a file")
            if len(f.content) > MAX_FILE_CHARS:
                raise invalid_argument(f"files[{f.path!r}] is larger than {MAX_FILE_CHARS} characters")
            files[f.path] = f.content
        removed = list(request.removed_paths)
        overlap = set(removed) & set(files)
        if overlap:
            raise invalid_argument(f"paths both changed and removed: {sorted(overlap)}")
        description = request.description.strip()
        if not description:
            raise invalid_argument("description is required: say what changes and why")
        if len(description) > MAX_DESCRIPTION:
            raise invalid_argument(f"description is longer than {MAX_DESCRIPTION} characters")
        if request.replay_last > MAX_REPLAY:
            raise invalid_argument(f"replay_last must be at most {MAX_REPLAY}")
        result = await self._run(self._admin.propose, caller, files, removed, description, int(request.replay_last))
        return proposal_message(result)

    @grpc_errors
    async def ApproveChange(self, request: policy_pb2.ApproveChangeRequest, context: Any) -> policy_pb2.ApproveChangeResponse:
        caller = await self._caller(context)
        version = await self._run(self._admin.approve, caller, _check_hash(request.hash))
        return policy_pb2.ApproveChangeResponse(version=version_message(version))

    @grpc_errors
    async def Rollback(self, request: policy_pb2.RollbackRequest, context: Any) -> policy_pb2.RollbackResponse:
        caller = await self._caller(context)
        version = await self._run(self._admin.rollback, caller, _check_hash(request.hash))
        return policy_pb2.RollbackResponse(version=version_message(version))


def add_to_server(server: Any, service: PolicyAdminService) -> None:
    policy_pb2_grpc.add_PolicyAdminServicer_to_server(service, server)
