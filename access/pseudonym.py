"""``_key``: the stable record key a caller syncs by, even when the primary key is masked.

Exports and change feeds carry a ``_key`` column so a downstream system can apply "changed" and
"removed" rows to what it already holds. When the caller receives every primary-key field in clear,
``_key`` is those values (joined by ``|`` when the key has several fields). When a key field is
masked (the residents' ID number), ``_key`` is a **pseudonym**: the first 128 bits of
SHA-256 over a secret drawn for that caller and dataset followed by the key. Without the secret
nothing can be learnt from it (no guessing an ID number and checking its hash); it is the same for
the same caller in every export and change feed of that dataset, and different for every other
caller, so two callers cannot join their data on it. The secret is derived from
``HUB_HOME/pseudonym.key`` with HMAC and never leaves the hub.
"""

from __future__ import annotations

import hashlib
import hmac

from access import secretfile
from access.policy import Policy
from contracts.model import Contract
from hub.settings import Settings
from warehouse.duck import quote

KEY = "_key"


ANONYMOUS = "anonymous"
"""The holder of keys released to anonymous callers (datasets open to the public): one for all."""


def secret(settings: Settings, holder: str, dataset: str) -> str:
    """The hex secret of ``holder`` (a client id, or ``operator``) on ``dataset``."""
    master = secretfile.load(settings.resolved_home / "pseudonym.key")
    return hmac.new(master, f"{holder}|{dataset}".encode(), hashlib.sha256).hexdigest()


def key_sql(policy: Policy, contract: Contract, holder_secret: str, source: str = "src", alias: str = KEY) -> str:
    """The ``_key`` expression over the stored columns of table alias ``source``, named ``alias``."""
    parts = ", ".join(f"CAST({source}.{quote(k)} AS VARCHAR)" for k in contract.primary_key)
    clear = set(policy.clear_names)
    if all(k in clear for k in contract.primary_key):
        return f"concat_ws('|', {parts}) AS {alias}"
    if not all(c in "0123456789abcdef" for c in holder_secret) or len(holder_secret) != 64:
        raise ValueError("a pseudonym secret is 64 lowercase hex characters")
    return f"substr(sha256(concat_ws('|', '{holder_secret}', {parts})), 1, 32) AS {alias}"
