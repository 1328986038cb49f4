"""Listen addresses of the gRPC servers (hub and adapters): which stay on this machine.

Security on by default: a server without ``[tls]`` listens only where no other machine can
reach it, unless its configuration says plaintext beyond it is meant.
"""

from __future__ import annotations

import ipaddress


def local_only(listen: str) -> bool:
    """Whether a gRPC listen address is reachable from this machine only: a unix socket, or a
    loopback host (127.0.0.0/8, ::1, localhost). ``0.0.0.0``, ``[::]``, other addresses and
    other host names are not."""
    if listen.startswith("unix:"):
        return True
    host = listen.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
