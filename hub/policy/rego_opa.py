"""Rego evaluated by an OPA server over its REST Data API (opa-python-client 3.0).

Each policy version is uploaded under its own namespace: ``package pingan.authz``
becomes ``package v_<hash16>.pingan.authz`` (and ``data.pingan`` references follow),
so several versions live side by side on one server: a proposal can be tested and
replayed while the active version keeps serving, and activation is a switch of
namespace, not a re-upload. Line numbers are unchanged by the rewrite.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

import requests
from opa_client.errors import RegoParseError
from opa_client.opa import OpaClient

from hub.policy.bundle import PolicyBundle
from hub.policy.diagnostics import parse_opa_message
from hub.policy.engine import ENTRYPOINTS, POLICY_PACKAGE, UNDEFINED, TestOutcome, discover_tests, has_case
from hub.policy.errors import ConfigError, Diagnostic, EngineError, PolicyLoadError

_PACKAGE_LINE = re.compile(r"^(\s*package\s+)", re.MULTILINE)
_DATA_REF = re.compile(r"\bdata\.pingan\b")


def client_for(url: str, timeout: float = 2.0) -> OpaClient:
    """An OpaClient for ``http(s)://host:port``."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or not parsed.port:
        raise ConfigError(f"OPA URL must look like http://host:port, got {url!r}")
    return OpaClient(host=parsed.hostname, port=parsed.port, ssl=parsed.scheme == "https", timeout=timeout, retries=0)


class OpaRego:
    """One policy version uploaded to an OPA server under its own namespace."""

    name = "opa"

    def __init__(self, bundle: PolicyBundle, client: OpaClient) -> None:
        self._bundle = bundle
        self._client = client
        self.namespace = "v_" + bundle.content_hash[:16]
        self._uploaded: list[str] = []
        self._tests_uploaded = False
        if not bundle.rego_modules:
            raise PolicyLoadError([Diagnostic("rego", 0, 0, "the bundle has no Rego policy module")])
        self._upload(bundle.rego_modules)

    def _rewrite(self, source: str) -> str:
        source = _PACKAGE_LINE.sub(lambda m: m.group(1) + self.namespace + ".", source, count=1)
        return _DATA_REF.sub(f"data.{self.namespace}.pingan", source)

    def _upload(self, modules: Mapping[str, str]) -> None:
        for path, src in sorted(modules.items()):
            pid = f"{self.namespace}/{path}"
            try:
                self._client.update_policy_from_string(self._rewrite(src), pid, rego_compat=False)
            except RegoParseError as exc:
                diags = [
                    Diagnostic(
                        path,
                        int((e.get("location") or {}).get("row") or 0),
                        int((e.get("location") or {}).get("col") or 0),
                        str(e.get("message", "")).replace(self.namespace + ".", ""),
                    )
                    for e in exc.errors
                    if isinstance(e, dict)
                ] or parse_opa_message(str(exc.message), path)
                self.close()
                raise PolicyLoadError(diags) from None
            except (requests.RequestException, ValueError) as exc:
                self.close()
                raise EngineError(f"OPA server unreachable or answered badly: {type(exc).__name__}") from None
            self._uploaded.append(pid)

    def _query(self, package: str, rule: str, given: Any) -> Any:
        try:
            answer = self._client.query_rule(given, f"{self.namespace}.{package}", rule)
        except requests.RequestException as exc:
            raise EngineError(f"OPA query failed: {type(exc).__name__}") from None
        except ValueError:
            raise EngineError("OPA answered with something that is not JSON") from None
        if not isinstance(answer, dict):
            raise EngineError("OPA answered with something that is not an object")
        return answer.get("result", UNDEFINED)

    def evaluate(self, entrypoint: str, input: Mapping[str, Any]) -> Any:
        if entrypoint not in ENTRYPOINTS:
            raise EngineError(f"unknown entrypoint {entrypoint!r}")
        return self._query(POLICY_PACKAGE, entrypoint, dict(input))

    def run_tests(self) -> list[TestOutcome]:
        tests = self._bundle.rego_tests
        if not self._tests_uploaded:
            self._upload(tests)
            self._tests_uploaded = True
        outcomes: list[TestOutcome] = []
        for case in discover_tests(tests):
            try:
                given: Any = {}
                if has_case(tests, case):
                    given = self._query(case.package, case.case_rule, {})
                    if given is UNDEFINED:
                        outcomes.append(TestOutcome(case.name, False, f"{case.case_rule} is undefined"))
                        continue
                result = self._query(case.package, case.rule, given)
            except EngineError as exc:
                outcomes.append(TestOutcome(case.name, False, str(exc)))
                continue
            if result is True:
                outcomes.append(TestOutcome(case.name, True))
            elif result is UNDEFINED:
                outcomes.append(TestOutcome(case.name, False, "undefined: an assertion failed (or a variable is unsafe)"))
            else:
                outcomes.append(TestOutcome(case.name, False, f"expected true, got {json.dumps(result)[:120]}"))
        return outcomes

    def close(self) -> None:
        """Remove this version's modules from the server (best effort)."""
        for pid in reversed(self._uploaded):
            try:
                self._client.delete_policy(pid)
            except Exception:  # noqa: BLE001, S110 - cleanup must not mask the real outcome
                pass
        self._uploaded.clear()
