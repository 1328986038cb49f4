"""Identity resolution, hub side: persons and households from linkage encodings.

The hub never sees raw identifiers: it pulls :class:`pingan.v1.linkage_pb2.LinkageRecord`
messages from adapters, blocks and scores them (Fellegi-Sunter, EM-estimated),
clusters them under constraints and keeps stable person and household ids in
the ``identity_*`` tables. Entry point: :class:`hub.identity.index.IdentityIndex`.
"""
