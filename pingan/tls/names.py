"""How pingan names certificate holders: roles, names, SPIFFE URIs and identity host names."""

from __future__ import annotations

import re

ROLES: tuple[str, ...] = ("hub", "adapter", "client")
"""Who may hold a certificate: the hub, a department adapter, a department system calling the hub."""

TRUST_DOMAIN = "pingan"
"""The SPIFFE trust domain in every certificate's SAN URI."""

NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,62}[a-z0-9])?$")
SPIFFE_PATTERN = re.compile(r"^spiffe://(?P<domain>[^/]+)/(?P<role>[^/]+)/(?P<name>[^/]+)$")


def check_name(name: str) -> str:
    """A certificate holder's name: lowercase letters, digits, ``.``, ``-`` (1-64 chars).

    The name goes into a URI path, a DNS name (:func:`identity_host`) and log
    lines, so it is kept to the host-name alphabet (RFC 1123).
    """
    if not NAME_PATTERN.match(name) or ".." in name:
        raise ValueError(
            f"name {name!r} is not allowed: use 1-64 lowercase letters, digits, '.' or '-', "
            "starting and ending with a letter or digit (e.g. 'justice' or 'hub-1')"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


def spiffe_id(role: str, name: str) -> str:
    """The SAN URI naming a holder, e.g. ``spiffe://pingan/adapter/justice``."""
    return f"spiffe://{TRUST_DOMAIN}/{check_role(role)}/{check_name(name)}"


IDENTITY_DOMAIN = "pingan.internal"
"""Suffix of the identity host name every server certificate carries (``.internal``: private use)."""


def identity_host(role: str, name: str) -> str:
    """The DNS SAN that names a server's identity, e.g. ``justice.adapter.pingan.internal``.

    gRPC Python does not show a client the server's certificate, but it does
    verify the host name (RFC 6125). Dialling with :func:`expect_server` makes
    that check prove *which* server answered, not just that our CA signed it.
    """
    return f"{check_name(name)}.{check_role(role)}.{IDENTITY_DOMAIN}"


def expect_server(role: str, name: str) -> tuple[tuple[str, str], ...]:
    """Channel options that accept only the server ``role``/``name`` (e.g. the hub -> adapter "justice").

    ``grpc.secure_channel(address, channel_credentials(...), options=expect_server("adapter", "justice"))``:
    the handshake fails unless the server's certificate, from our CA, names
    ``justice.adapter.pingan.internal`` (``pingan pki issue`` adds it to every server certificate).
    """
    return (("grpc.ssl_target_name_override", identity_host(role, name)),)
