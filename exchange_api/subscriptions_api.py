"""Webhook subscriptions: register a URL for a dataset's new versions, list, cancel, see deliveries.

Routes only translate HTTP to :mod:`exchange.subscriptions`; who may subscribe is decided by
:func:`access.policy.policy_for`, the same as for reading the dataset. Another client's
subscription answers 404, as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from access import tokens
from catalog import permissions, service
from catalog.models import ApiClient, ApiKey, aware
from exchange import subscriptions
from exchange.subscriptions import Delivery, Subscription
from exchange_api.deps import SESSION, get_settings, presented_key, require_client
from exchange_api.responses import JSONResponse
from hub.errors import NotAuthorized, NotFound
from hub.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["subscriptions"])


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: str = Field(
        max_length=200, description="Dataset id (population.residents) or name (population-residents)."
    )
    url: str = Field(
        max_length=subscriptions.MAX_URL_CHARS,
        description="http(s) URL the hub POSTs a signed notice to for each new version.",
    )
    description: str = Field("", max_length=500, description="What the subscription is for (shown in listings).")


def _iso(when: dt.datetime | None) -> str | None:
    return aware(when).isoformat() if when else None


def subscription_dict(s: Session, sub: Subscription) -> dict[str, Any]:
    client = s.get(ApiClient, sub.client_id)
    key = s.get(ApiKey, sub.key_id)
    return {
        "id": sub.id,
        "client": client.name if client else None,
        "dataset": sub.dataset,
        "url": sub.url,
        "description": sub.description,
        "key": f"{key.prefix}…" if key else None,
        "active": sub.active,
        "created": _iso(sub.created),
        "created_by": sub.created_by,
        "revoked_at": _iso(sub.revoked_at),
        "revoked_by": sub.revoked_by,
    }


def delivery_dict(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "subscription": d.subscription_id,
        "dataset": d.dataset,
        "version": d.version,
        "snapshot_id": str(d.snapshot_id),
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": _iso(d.next_attempt_at) if d.status == subscriptions.DeliveryStatus.pending else None,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created": _iso(d.created),
        "delivered_at": _iso(d.delivered_at),
    }


def _visible(s: Session, caller: ApiClient, subscription_id: str) -> Subscription:
    """The subscription if it is the caller's own or the caller is a steward; else 404, as if absent."""
    try:
        sub = subscriptions.subscription(s, subscription_id)
    except NotFound:
        sub = None
    if sub is None or (sub.client_id != caller.id and not permissions.is_steward(caller)):
        raise NotFound(f"subscription {subscription_id} not found")
    return sub


def _key(s: Session, settings: Settings, request: Request) -> ApiKey:
    presented = presented_key(request)
    if presented is None:
        raise NotAuthorized("an API key is required")
    return tokens.credential(s, settings, presented)


@router.post("/subscriptions", status_code=201, summary="Get a signed notice for each new version of a dataset")
def create_subscription(
    body: SubscriptionIn,
    request: Request,
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> JSONResponse:
    """You must be able to read the dataset. The answer carries the subscription's signing
    ``secret``: it is shown this once. Deliveries stop when the key used here is revoked or
    expires, or when you may no longer read the dataset."""
    ds = service.dataset(s, body.dataset)
    if not ds.from_contract:
        raise NotFound(f"dataset {body.dataset} has no versions to subscribe to (it is a catalogue entry only)")
    sub, secret = subscriptions.subscribe(
        s, settings, caller, _key(s, settings, request), ds, url=body.url, description=body.description
    )
    answer = subscription_dict(s, sub) | {
        "secret": secret,
        "signature": "X-Hub-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, '<t>.' + body)>",
    }
    return JSONResponse(answer, status_code=201)


@router.get("/subscriptions", summary="Subscriptions: your own, or everyone's for stewards")
def list_subscriptions(
    dataset: str | None = Query(None, max_length=200, description="Only subscriptions to this dataset id."),
    active: bool = Query(False, description="Only subscriptions not cancelled."),
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
) -> JSONResponse:
    whose = None if permissions.is_steward(caller) else caller
    rows = subscriptions.listing(s, client=whose, dataset=dataset, active_only=active)
    return JSONResponse({"count": len(rows), "subscriptions": [subscription_dict(s, r) for r in rows]})


@router.get("/subscriptions/{subscription_id}/deliveries", summary="Deliveries of a subscription, newest first")
def list_deliveries(
    subscription_id: str,
    limit: int = Query(100, ge=1, le=1000),
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
) -> JSONResponse:
    sub = _visible(s, caller, subscription_id)
    rows = subscriptions.deliveries(s, sub, limit=limit)
    return JSONResponse({"subscription": sub.id, "count": len(rows), "deliveries": [delivery_dict(d) for d in rows]})


@router.delete("/subscriptions/{subscription_id}", summary="Cancel a subscription (yours; stewards: any)")
def cancel_subscription(
    subscription_id: str, caller: ApiClient = Depends(require_client), s: Session = SESSION
) -> JSONResponse:
    sub = _visible(s, caller, subscription_id)
    subscriptions.cancel(s, sub, by=caller.name)
    return JSONResponse(subscription_dict(s, sub))
