"""Department side: each department runs an adapter over its own database.

Adapters are the only part that sees raw identifiers: they normalise and encode
them (``adapters.linkage``) and serve ``pingan.v1.DepartmentAdapter``. This
package never imports ``hub``.
"""
