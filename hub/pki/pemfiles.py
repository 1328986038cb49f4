"""Writing PEM files: private keys owner-only (0600), nothing silently overwritten."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hub.pki.errors import PkiError


def refuse_existing(*paths: Path) -> None:
    """Fail before writing anything if any target exists (a CA or key must never be replaced by accident)."""
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        raise PkiError(f"{', '.join(existing)} already exist(s); remove it or choose another --out directory")


def write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` (set at creation, so a key is never briefly world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise PkiError(f"{path} already exists; remove it or choose another --out directory") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, mode)  # in case the umask removed bits we asked for


def replace(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Atomically replace ``path`` (used for the CRL, which readers may poll at any moment)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    # Unencrypted PKCS#8: gRPC reads it directly; file permissions protect it.
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise PkiError(f"{path}: cannot read the private key ({exc.strerror or exc})") from None
    except (ValueError, TypeError):
        raise PkiError(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{path}: expected an ECDSA P-256 key")
    return key
