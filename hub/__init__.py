"""The centre: identity index, policy decision, masking, profile assembly, metrics.

The hub only ever handles linkage encodings, never raw identifiers at rest. It
imports ``audit`` and ``pingan.v1``, never ``adapters``.
"""
