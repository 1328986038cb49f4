"""Linkage protocol, adapter side: normalise raw identifiers and encode them.

Only adapters hold the linkage secret and see raw identifiers; the hub receives
the :class:`pingan.v1.linkage_pb2.LinkageEncoding` messages made here. The
scheme is specified in ``docs/linkage.md``.
"""
