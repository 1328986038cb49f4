"""Warn when ``[policy] policies_dir`` no longer matches the active policy version.

The directory (default: the policies shipped with pingan-hub) seeds the first
active version only: the hub bootstraps from it when the database holds no active
version, and from then on the active version lives in the database and changes
only through ``pingan policy propose`` / ``approve`` (docs/policy.md). An operator
who edits the directory, or points the key at another one, would otherwise see
the change ignored without a word; the hub calls :func:`warn_if_policies_dir_ignored`
at start, after the bootstrap, to say so.

- The directory's bundle is the active version: nothing is logged.
- It is another version stored in the database (typically the first version, since
  superseded by approved proposals): one INFO line, as that is the normal state of
  a hub whose policy evolved through proposals.
- It is no stored version (edited files, another directory, new shipped policies
  after an upgrade): one WARNING naming both hashes and how to adopt the change.
- It cannot be read: one WARNING (the start goes on: the directory is not used).
"""

from __future__ import annotations

import logging
from pathlib import Path

from hub.policy.bundle import PolicyBundle, default_policy_dir
from hub.policy.errors import PolicyLoadError
from hub.policy.store import PolicyStore

log = logging.getLogger(__name__)


def warn_if_policies_dir_ignored(
    store: PolicyStore, policies_dir: str | Path | None, *, logger: logging.Logger = log
) -> str | None:
    """Log (and return) why ``policies_dir`` differs from the active version, or return None.

    ``policies_dir`` is the configured ``[policy] policies_dir``; None means the shipped
    default. Never raises for a missing or unreadable directory (it is not used once a
    version is active).
    """
    directory = Path(policies_dir) if policies_dir is not None else default_policy_dir()
    active = store.active()
    if active is None:
        return None
    try:
        dir_hash = PolicyBundle.from_directory(directory).content_hash
    except (PolicyLoadError, OSError, UnicodeDecodeError) as exc:
        message = (
            f"policy.policies_dir {directory} cannot be read ({exc}); it is not used anyway: the active "
            f"policy version {active.content_hash[:12]} is in the database"
        )
        logger.warning(message)
        return message
    if dir_hash == active.content_hash:
        return None
    stored = store.find(dir_hash)
    if stored is not None:
        message = (
            f"policy.policies_dir {directory} holds policy version {dir_hash[:12]} ({stored.state}), not the "
            f"active version {active.content_hash[:12]}; the directory only seeds the first start"
        )
        logger.info(message)
        return message
    message = (
        f"policy.policies_dir {directory} (bundle {dir_hash[:12]}) differs from the active policy version "
        f"{active.content_hash[:12]} and is IGNORED: the directory only seeds the first start. To adopt "
        f"its content, propose it and have another policy owner approve it (pingan policy propose --dir {directory} "
        "--description ..., then pingan policy approve HASH; docs/policy.md)"
    )
    logger.warning(message)
    return message
