"""校核 disputes: file one on a record you read, follow it, answer it (the providing department).

Routes only translate HTTP to :mod:`stewardship.disputes`; which record and field a caller may
dispute is decided by :func:`access.policy.policy_for` and :mod:`exchange.lookup` (a record outside
the caller's grant answers 404, like a missing one). A dispute is seen by its filer, the providing
department and data stewards; anyone else gets 404, as if it did not exist. Filing and showing a
dispute read a record's value: both are audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from access import audit, gate, grants, pseudonym
from access.policy import Column, Policy, policy_for
from catalog import permissions, service
from catalog.models import ApiClient, Dataset, aware, utcnow
from contracts.model import Contract
from exchange import lookup, versions
from exchange.versions import At
from exchange_api.deps import SESSION, Contracts, get_contracts, get_settings, get_store, require_client
from exchange_api.responses import JSONResponse
from hub.errors import BadParameter, HubError, NotFound
from hub.settings import Settings
from stewardship import disputes
from stewardship.disputes import Dispute, DisputeStatus
from warehouse.serving import Store

router = APIRouter(prefix="/api/v1", tags=["disputes"])


def clock() -> dt.datetime:
    """The time the routes act at (overridden in tests to freeze it)."""
    return utcnow()


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=200, description="The record's _key, as your exports carry it.")
    field: str = Field(min_length=1, max_length=100, description="The field you believe wrong.")
    claimed_value: str = Field(min_length=1, max_length=disputes.MAX_VALUE_CHARS, description="The right value.")
    evidence: str = Field(min_length=1, max_length=disputes.MAX_EVIDENCE_CHARS, description="Why you believe so.")


class Outcome(StrEnum):
    corrected = "corrected"
    rejected = "rejected"


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    version: int | None = Field(None, ge=1, description="corrected: the version that carries the correction.")
    reason: str | None = Field(None, max_length=4000, description="rejected: why the value stands.")


class Queue(StrEnum):
    mine = "mine"
    provider = "provider"
    all = "all"


def _iso(when: dt.datetime | None) -> str | None:
    return aware(when).isoformat() if when else None


def dispute_dict(s: Session, d: Dispute, caller: ApiClient, now: dt.datetime) -> dict[str, Any]:
    client = s.get(ApiClient, d.client_id)
    return {
        "id": d.id,
        "dataset": d.dataset,
        "client": client.name if client else None,
        "organization": client.organization if client else None,
        "key": d.key if d.client_id == caller.id else None,
        "field": d.field,
        "claimed_value": d.claimed_value,
        "evidence": d.evidence,
        "version": d.version,
        "status": d.status,
        "created": _iso(d.created),
        "due": _iso(d.due),
        "overdue": disputes.overdue(d, now),
        "answered": _iso(d.answered),
        "answered_by": d.answered_by,
        "corrected_in": d.corrected_in,
        "reason": d.reason,
    }


def event_dict(e: disputes.DisputeEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": _iso(e.at),
        "actor": e.actor,
        "party": e.party,
        "action": e.action,
        "status": e.status,
        "detail": e.detail,
    }


def _release(
    s: Session,
    settings: Settings,
    request: Request,
    caller: ApiClient,
    policy: Policy,
    column: Column,
    at: At,
    action: str,
) -> None:
    event = audit.served(
        action,
        caller,
        policy,
        [column],
        1,
        version=at.version,
        snapshot_id=at.snapshot_id,
        request_id=getattr(request.state, "request_id", None),
        query=str(request.url.path),
    )
    gate.release(s, settings, caller, policy, event)


def value_changed(
    settings: Settings, store: Store, contract: Contract, ds: Dataset, dispute: Dispute
) -> Callable[[int, int], bool]:
    """Compares the disputed field of the disputed record in two versions (its stored values)."""

    def changed(old: int, new: int) -> bool:
        before, after = (versions.resolve(ds, str(n)) for n in (old, new))
        values = [
            lookup.stored(settings, store, contract, at, dispute.field, dispute.locator) for at in (before, after)
        ]
        return values[0] != values[1]

    return changed


def _reading(s: Session, caller: ApiClient, ds: Dataset, contract: Contract, field: str) -> tuple[Policy, Column]:
    policy = policy_for(caller, ds, contract, grants.active(s, caller, contract.id))
    return policy, policy.column(field, rule="field")


@router.post("/datasets/{ref}/disputes", status_code=201, summary="Dispute a value of a record you read (校核)")
def file_dispute(
    ref: str,
    body: DisputeIn,
    request: Request,
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    contracts: Contracts = Depends(get_contracts),
    store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings),
    now: dt.datetime = Depends(clock),
) -> JSONResponse:
    """Name the record by its ``_key`` (as your exports and change feeds carry it) and a field you
    receive. The providing department answers within the contract's ``disputeDays`` working days.
    The answer shows the field's current value as your policy releases it (masked if it is)."""
    ds = service.dataset(s, ref)
    if not ds.from_contract:
        raise NotFound(f"dataset {ref} has no records (it is a catalogue entry only)")
    contract = contracts.get(ds.key)
    policy, column = _reading(s, caller, ds, contract, body.field)
    at = versions.resolve(ds, None)
    secret = pseudonym.secret(settings, caller.id, contract.id)
    found = lookup.find(settings, store, contract, at, policy, column, secret, key=body.key)
    if found is None:
        raise NotFound(f"record {body.key} not found in {ds.name}")
    made = disputes.file(
        s,
        caller,
        contract,
        key=found.key,
        locator=found.locator,
        field=body.field,
        claimed_value=body.claimed_value,
        evidence=body.evidence,
        version=at.version,
        now=now,
    )
    answer = dispute_dict(s, made, caller, now) | {"current_value": found.value, "masked": column.masked}
    _release(s, settings, request, caller, policy, column, at, "dispute")
    return JSONResponse(answer, status_code=201)


@router.get("/disputes", summary="Disputes: your own, your department's queue, or all (stewards)")
def list_disputes(
    queue: Queue = Query(Queue.mine, description="mine (filed by you), provider (your department's), all (stewards)."),
    dataset: str | None = Query(None, max_length=200, description="Only this dataset id."),
    status: DisputeStatus | None = Query(None),
    overdue: bool = Query(False, description="Only open disputes past their deadline."),
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    now: dt.datetime = Depends(clock),
) -> JSONResponse:
    """Oldest deadline first."""
    client: ApiClient | None = caller if queue is Queue.mine else None
    datasets = disputes.provided_by(s, caller) if queue is Queue.provider else None
    if queue is Queue.all:
        permissions.require_steward(caller, "list every dispute")
    rows = disputes.listing(
        s, client=client, datasets=datasets, dataset=dataset, status=status, overdue_at=now if overdue else None
    )
    return JSONResponse({"count": len(rows), "disputes": [dispute_dict(s, d, caller, now) for d in rows]})


@router.get("/disputes/{dispute_id}", summary="One dispute, its steps and the field's current value")
def show_dispute(
    dispute_id: str,
    request: Request,
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    contracts: Contracts = Depends(get_contracts),
    store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings),
    now: dt.datetime = Depends(clock),
) -> JSONResponse:
    """``current`` is the record's value in the newest version as your policy releases it (null
    when you may no longer read it, or the record is gone)."""
    found, ds = disputes.visible(s, caller, dispute_id)
    body = dispute_dict(s, found, caller, now) | {"events": [event_dict(e) for e in found.events], "current": None}
    contract = contracts.get(ds.key)
    try:
        policy, column = _reading(s, caller, ds, contract, found.field)
    except HubError:
        return JSONResponse(body)
    at = versions.resolve(ds, None)
    secret = pseudonym.secret(settings, caller.id, contract.id)
    record = lookup.find(settings, store, contract, at, policy, column, secret, locator=found.locator)
    if record is not None:
        body["current"] = {"key": record.key, "value": record.value, "masked": column.masked, "version": at.version}
        _release(s, settings, request, caller, policy, column, at, "dispute_show")
    return JSONResponse(body)


@router.post("/disputes/{dispute_id}/answer", summary="Answer a dispute: corrected in version N, or rejected")
def answer_dispute(
    dispute_id: str,
    body: AnswerIn,
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    contracts: Contracts = Depends(get_contracts),
    store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings),
    now: dt.datetime = Depends(clock),
) -> JSONResponse:
    """The providing department or a data steward. ``corrected`` names a published version newer
    than the disputed one in which the value differs; ``rejected`` states a reason."""
    found, ds = disputes.visible(s, caller, dispute_id)
    if body.outcome is Outcome.rejected:
        disputes.reject(s, found, caller, ds, body.reason or "", now=now)
    else:
        if body.version is None:
            raise BadParameter("a correction names the version that carries it", column="version")
        changed = value_changed(settings, store, contracts.get(ds.key), ds, found)
        disputes.correct(s, found, caller, ds, body.version, changed=changed, now=now)
    s.commit()
    return JSONResponse(dispute_dict(s, found, caller, now) | {"events": [event_dict(e) for e in found.events]})


@router.post("/disputes/{dispute_id}/withdraw", summary="Withdraw your open dispute")
def withdraw_dispute(
    dispute_id: str,
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    now: dt.datetime = Depends(clock),
) -> JSONResponse:
    found, ds = disputes.visible(s, caller, dispute_id)
    disputes.withdraw(s, found, caller, ds, now=now)
    s.commit()
    return JSONResponse(dispute_dict(s, found, caller, now) | {"events": [event_dict(e) for e in found.events]})
