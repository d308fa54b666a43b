"""Who may get what: the policy every path out of the hub asks, and the one query built from it.

No HTTP here: routes (records, datastore_search, downloads, and later exports, change feeds and
SQL) call :func:`access.policy.policy_for` and build their SQL with :mod:`access.query`.
"""
