"""pingan-hub: the contract (``pingan.v1``, generated) and the command line (``pingan.cli``).

``pingan.cli`` is the composition root: the only place that wires hub, adapters
and audit together. The packages themselves keep DESIGN.md's arrows
(hub -> audit, hub -> pingan.v1, adapters -> pingan.v1).
"""
