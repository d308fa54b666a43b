"""API clients and their keys. Keys are random 256-bit strings, stored as SHA-256 only.

A fast hash is the right tool here: the keys are high-entropy, so there is nothing for a slow
password hash to protect against, and lookups stay a single indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import ApiClient, ApiKey, utcnow
from hub.errors import NotAuthorized, NotFound

ROLES = ("publisher", "steward", "analyst", "consumer")
KEY_PREFIX = "hub_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def ensure_client(s: Session, name: str, *, role: str = "consumer", organization: str | None = None) -> ApiClient:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    client = s.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None:
        client = ApiClient(id=str(uuid.uuid4()), name=name, role=role, organization=organization)
        s.add(client)
        s.flush()
    return client


def issue_key(s: Session, client: ApiClient, label: str = "") -> str:
    """Create a key and return it; only its hash is stored, so this is the one time it is seen."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    s.add(ApiKey(id=str(uuid.uuid4()), client=client, label=label, prefix=key[:10], key_hash=hash_key(key)))
    s.flush()
    return key


def revoke_keys(s: Session, client: ApiClient, label: str | None = None) -> int:
    count = 0
    for key in client.keys:
        if key.revoked_at is None and (label is None or key.label == label):
            key.revoked_at = utcnow()
            count += 1
    return count


def authenticate(s: Session, key: str) -> ApiClient:
    row = s.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if row is None or row.revoked_at is not None:
        raise NotAuthorized("API key is unknown or revoked")
    return row.client


def client(s: Session, name: str) -> ApiClient:
    found = s.scalar(select(ApiClient).where(ApiClient.name == name))
    if found is None:
        raise NotFound(f"client {name!r} not found")
    return found
