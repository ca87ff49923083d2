"""Drop-in modules for hosts migrating to the engine from another licensing package.

``dev_health_entitlements.compat.dev_health_ops`` offers dev-health-ops' ``licensing`` package
(the same public names, signatures, exceptions, messages and HTTP bodies) over the engine: change
``dev_health_ops.licensing`` to ``dev_health_entitlements.compat.dev_health_ops`` in the imports.
See ``docs/migration-dev-health-ops.md`` for what differs and why.
"""
