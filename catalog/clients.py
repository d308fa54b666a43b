"""API clients and their keys. Keys are random 256-bit strings, stored as SHA-256 only.

A fast hash is the right tool here: the keys are high-entropy, so there is nothing for a slow
password hash to protect against, and lookups stay a single indexed equality.

Keys expire (``HUB_KEY_LIFETIME_DAYS``, 365 by default) and remember the key that minted them
(CKAN ``api_token_create`` called with a key): revoking a key revokes every key minted from it,
transitively, so a leaked key's offspring die with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from catalog import cache
from catalog.models import ApiClient, ApiKey, aware, utcnow
from hub.errors import HubError, NotAuthorized, NotFound


class Role(StrEnum):
    publisher = "publisher"
    steward = "steward"
    analyst = "analyst"
    consumer = "consumer"


ROLES = tuple(r.value for r in Role)
KEY_PREFIX = "hub_"
UNKNOWN_KEY = "API key is unknown or revoked"


class RoleConflict(HubError):
    """A client exists with another role and the change was not asked for explicitly."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def role_of(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise HubError(f"role {value!r} is not one of {', '.join(ROLES)}") from None


def ensure_client(
    s: Session, name: str, *, role: str = "consumer", organization: str | None = None, change_role: bool = False
) -> ApiClient:
    """The client ``name``, created with ``role`` if new. An existing client keeps its role unless
    ``change_role`` is given: a typo must not turn an application into a steward."""
    wanted = role_of(role)
    client = s.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None:
        client = ApiClient(id=str(uuid.uuid4()), name=name, role=wanted.value, organization=organization)
        s.add(client)
        s.flush()
        return client
    if client.role != wanted.value:
        if not change_role:
            raise RoleConflict(
                f"client {name} is a {client.role}; to make it a {wanted.value}, repeat with --change-role"
            )
        client.role = wanted.value
    if organization and client.organization != organization:
        if client.organization and not change_role:
            raise RoleConflict(
                f"client {name} belongs to {client.organization}; to move it to {organization}, repeat with "
                "--change-role"
            )
        client.organization = organization
    return client


def issue_key(
    s: Session,
    client: ApiClient,
    label: str = "",
    *,
    lifetime_days: int | None = 365,
    minted_by: ApiKey | None = None,
) -> str:
    """Create a key and return it; only its hash is stored, so this is the one time it is seen.

    ``lifetime_days`` None or 0 makes a key that never expires (reserved for operators' choice);
    ``minted_by`` is the key whose holder asked for this one. A child never outlives its minting
    key: after the insert (which opens the write transaction) the minting key is read again,
    locked, so a revocation committed since the caller authenticated refuses the child, and a
    revocation that comes later waits for this transaction and then finds the child.
    """
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(days=lifetime_days) if lifetime_days else None
    s.add(
        ApiKey(
            id=str(uuid.uuid4()),
            client=client,
            label=label,
            prefix=key[:10],
            key_hash=hash_key(key),
            expires_at=expires,
            minted_by=minted_by.id if minted_by else None,
        )
    )
    s.flush()
    if minted_by is not None:
        _check_live(
            s.scalar(
                select(ApiKey)
                .where(ApiKey.id == minted_by.id)
                .with_for_update(read=True)  # PostgreSQL: a concurrent revocation waits for us
                .execution_options(populate_existing=True)
            )
        )
    return key


def _revoke_tree(s: Session, keys: list[ApiKey]) -> int:
    """Revoke ``keys`` and every key minted from them, transitively; returns how many were live."""
    count, seen, todo = 0, set(), list(keys)
    now = utcnow()
    while todo:
        key = todo.pop()
        if key.id in seen:
            continue
        seen.add(key.id)
        if key.revoked_at is None:
            key.revoked_at = now
            count += 1
        todo += s.scalars(select(ApiKey).where(ApiKey.minted_by == key.id)).all()
    s.flush()
    return count


def revoke(s: Session, key: ApiKey) -> int:
    return _revoke_tree(s, [key])


def revoke_keys(s: Session, client: ApiClient, label: str | None = None) -> int:
    """Revoke a client's keys (those with ``label`` only, if given) and every key they minted."""
    return _revoke_tree(s, [k for k in client.keys if label is None or k.label == label])


def authenticate_key(s: Session, key: str) -> ApiKey:
    """The live key row for ``key``: unknown and revoked keys get one message, expired keys say so."""
    digest = hash_key(key)

    def load(o: Session) -> ApiKey | None:  # the statement is built only on a miss
        return o.scalar(select(ApiKey).options(joinedload(ApiKey.client)).where(ApiKey.key_hash == digest))

    return _check_live(cache.lookup(s, ("key", digest), load))


def check_live(row: ApiKey | None) -> ApiKey:
    """``row`` if it is a live key: not unknown, revoked or expired."""
    return _check_live(row)


def _check_live(row: ApiKey | None) -> ApiKey:
    if row is None or row.revoked_at is not None:
        raise NotAuthorized(UNKNOWN_KEY)
    if row.expires_at is not None and aware(row.expires_at) <= utcnow():
        raise NotAuthorized(
            f"API key {row.prefix}… expired on {aware(row.expires_at):%Y-%m-%d}; ask a data steward for a new one"
        )
    return row


def authenticate(s: Session, key: str) -> ApiClient:
    return authenticate_key(s, key).client


def client(s: Session, name: str) -> ApiClient:
    found = s.scalar(select(ApiClient).where(ApiClient.name == name))
    if found is None:
        raise NotFound(f"client {name!r} not found")
    return found


def state(key: ApiKey) -> str:
    """``live``, ``revoked`` or ``expired``."""
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and aware(key.expires_at) <= utcnow():
        return "expired"
    return "live"


def prefixes(s: Session, ids: set[str]) -> dict[str, str]:
    """The visible prefixes of the keys with these ids (to name a minting key)."""
    if not ids:
        return {}
    return dict(s.execute(select(ApiKey.id, ApiKey.prefix).where(ApiKey.id.in_(ids))).tuples().all())


def all_keys(s: Session, name: str | None = None) -> list[ApiKey]:
    q = select(ApiKey).join(ApiClient).order_by(ApiClient.name, ApiKey.created)
    if name:
        q = q.where(ApiClient.name == client(s, name).name)
    return list(s.scalars(q))
