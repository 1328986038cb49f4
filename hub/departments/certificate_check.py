"""The hub checks each adapter's certificate against the CA's CRL before calling it.

Adapters refuse a revoked hub certificate (``adapters.server.HubOnlyInterceptor``);
this is the other direction (RFC 5280 section 6.3: a relying party checks the
status of the certificate it is given). gRPC Python does not show a client the
server's certificate, so the serial comes from a handshake of our own to the same
address, with the same trust, client certificate and pinned name as the gRPC
channel (:func:`pingan.tls.presented_certificate`).

When the serial is read again:

- before the first call, and whenever the gRPC channel is not connected when a call
  starts (it is about to open a new connection, whose handshake may present another
  certificate): the call waits for the answer;
- every ``recheck_seconds`` while connected, in the background (a certificate
  swapped under a long-lived connection is noticed within that time).

Each call compares the known serial with the CRL (one ``stat`` of the file when it
has not changed), so a revocation published while connections stay open takes
effect at the next call. Fail closed: an unusable CRL counts every serial as revoked
(``RevocationList``), and an adapter whose certificate cannot be read is not called.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable, Container
from dataclasses import dataclass

from pingan.tls import TlsProbeError, presented_certificate

log = logging.getLogger(__name__)

RECHECK_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the adapter is not called: ``revoked`` (the CRL lists its serial) or its certificate unreadable."""

    revoked: bool
    message: str


class AdapterCertificateCheck:
    """The serial one adapter presents, and whether the CRL lists it. Use from one event loop."""

    def __init__(
        self,
        adapter: str,
        address: str,
        context: ssl.SSLContext,
        server_name: str,
        revoked: Container[int],
        *,
        recheck_seconds: float = RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.adapter = adapter
        self.address = address
        self.server_name = server_name
        self._context = context
        self._revoked = revoked
        self._recheck = recheck_seconds
        self._clock = clock
        self._serial: int | None = None
        self._read_at = 0.0
        self._pending: asyncio.Task[int] | None = None
        self._reported: int | None = None  # the revoked serial last logged (once per serial, not per call)
        self._problem: str | None = None  # the read failure last logged

    @property
    def serial(self) -> int | None:
        """The serial last read from the adapter, or None before the first successful read."""
        return self._serial

    def forget(self) -> None:
        """The next check reads the certificate again before answering (a new connection is coming)."""
        self._serial = None

    async def refusal(self, timeout: float) -> Refusal | None:
        """None when the adapter may be called; otherwise why not. Waits at most ``timeout`` s for a read."""
        serial = self._serial
        if serial is None:
            try:
                serial = await asyncio.wait_for(asyncio.shield(self._read()), timeout=max(timeout, 0.001))
            except TimeoutError:
                return Refusal(False, f"certificate not checked: no TLS handshake within {timeout * 1000:.0f} ms")
            except TlsProbeError as exc:
                return _unreadable(exc)
        elif self._clock() - self._read_at >= self._recheck:
            self._read_soon()
        return self._verdict(serial)

    def refusal_now(self, timeout: float) -> Refusal | None:
        """:meth:`refusal` for a blocking caller (linkage pulls on a synchronous channel): always reads."""
        try:
            serial = self._probe(timeout)
        except TlsProbeError as exc:
            self._note(exc)
            return _unreadable(exc)
        self._note(None)
        self._serial, self._read_at = serial, self._clock()
        return self._verdict(serial)

    def _verdict(self, serial: int) -> Refusal | None:
        if serial not in self._revoked:
            self._reported = None
            return None
        if self._reported != serial:
            self._reported = serial
            log.warning("adapter %s presents revoked certificate serial %x: not calling it", self.adapter, serial)
        return Refusal(
            True,
            f"certificate revoked: the adapter presents serial {serial:x}, listed in the CA's CRL; "
            "not called until it presents a valid certificate",
        )

    def _note(self, problem: TlsProbeError | None) -> None:
        """Log a read failure once per change, not once per call (a department down fails every call).

        A server that answers with a certificate we cannot accept is a warning; an
        adapter that does not answer at all is down, which its sections already say.
        """
        text = None if problem is None else str(problem)
        if text == self._problem:
            return
        if problem is None:
            log.info("adapter %s: certificate readable again", self.adapter)
        elif problem.unreachable:
            log.info("adapter %s: certificate not checked: %s", self.adapter, problem)
        else:
            log.warning("adapter %s: certificate not acceptable: %s", self.adapter, problem)
        self._problem = text

    def _read(self) -> asyncio.Task[int]:
        """The read in progress, or a new one: concurrent callers share one handshake."""
        if self._pending is None or self._pending.done():
            self._pending = asyncio.get_running_loop().create_task(self._read_serial())
        return self._pending

    def _read_soon(self) -> None:
        task = self._read()
        task.add_done_callback(_swallow)  # a failed background read keeps the known serial; logged in _read_serial

    async def _read_serial(self) -> int:
        try:
            serial = await asyncio.to_thread(self._probe, 5.0)
        except TlsProbeError as exc:
            self._note(exc)
            raise
        self._note(None)
        self._serial, self._read_at = serial, self._clock()
        return serial

    def _probe(self, timeout: float) -> int:
        return presented_certificate(self.address, self._context, self.server_name, timeout).serial_number


def _unreadable(exc: TlsProbeError) -> Refusal:
    """The refusal callers see in a section's reason: what happened, never the address or
    the transport's words (``_note`` logs those for the operator)."""
    if exc.unreachable:
        return Refusal(False, "adapter unreachable (certificate not checked)")
    return Refusal(False, "certificate not acceptable (see the hub's log)")


def _swallow(task: asyncio.Task[int]) -> None:
    if not task.cancelled():
        task.exception()
