"""The permissioned-exchange routes: access requests, grants, verify and the audit log.

Routes only translate HTTP to :mod:`access` (requests and grants, verify, audit) and back; who
may do what is decided there and in :func:`access.policy.policy_for`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from access import audit, gate, grants
from access.policy import Policy, policy_for
from access.verify import Question
from catalog import clients, permissions, service
from catalog.models import ApiClient, Dataset
from contracts.model import Contract
from exchange_api.deps import (
    SESSION,
    Contracts,
    get_contracts,
    get_settings,
    get_store,
    quickly,
    require_client,
    run,
)
from exchange_api.responses import JSONResponse
from hub.errors import Forbidden, NotFound
from hub.settings import Settings
from warehouse.serving import ServingVersion, Store

router = APIRouter(prefix="/api/v1", tags=["access"])


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: str = Field(description="Dataset id (population.residents) or name (population-residents).")
    fields: list[str] = Field(default_factory=list, description="Fields wanted (empty: every grantable field).")
    clear_fields: list[str] = Field(default_factory=list, description="Fields wanted in clear (unmasked).")
    rows: str | None = Field(None, description="Row scope, e.g. street_code IN ('110101001').")
    purpose: str = Field(min_length=1, max_length=2000)
    legal_basis: str = Field(min_length=1, max_length=2000)
    expires: dt.date | None = Field(None, description="Last day the access is wanted.")


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fields: list[str] | None = None
    clear_fields: list[str] | None = None
    rows: str | None = None
    expires: dt.date | None = None


class DenyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    match: dict[str, str | int | float] = Field(
        description="Field → value; at least one identifying field (e.g. id_number)."
    )


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when else None


def request_dict(s: Session, req: grants.AccessRequest) -> dict[str, Any]:
    client = s.get(ApiClient, req.client_id)
    left = grants.working_days_left(req.due) if req.status == grants.RequestStatus.pending else None
    return {
        "id": req.id,
        "client": client.name if client else None,
        "organization": client.organization if client else None,
        "dataset": req.dataset,
        "fields": req.fields,
        "clear_fields": req.clear_fields,
        "rows": req.row_filter,
        "purpose": req.purpose,
        "legal_basis": req.legal_basis,
        "expires": _iso(req.wanted_until),
        "status": req.status,
        "created": _iso(req.created),
        "due": _iso(req.due),
        "working_days_left": left,
        "overdue": left is not None and left < 0,
        "decided": _iso(req.decided),
        "decided_by": req.decided_by,
        "reason": req.reason,
        "grant_id": req.grant_id,
    }


def grant_dict(s: Session, g: grants.Grant) -> dict[str, Any]:
    client = s.get(ApiClient, g.client_id)
    return {
        "id": g.id,
        "client": client.name if client else None,
        "dataset": g.dataset,
        "fields": g.fields,
        "clear_fields": g.clear_fields,
        "rows": g.row_filter,
        "purpose": g.purpose,
        "legal_basis": g.legal_basis,
        "created": _iso(g.created),
        "expires": _iso(g.expires),
        "revoked": _iso(g.revoked),
        "live": grants.is_live(g),
        "granted_by": g.granted_by,
        "request_id": g.request_id,
    }


def _dataset(s: Session, ref: str) -> Dataset:
    ds = service.dataset(s, ref)
    if not ds.from_contract:
        raise NotFound(f"dataset {ref} has no data to grant (it is a catalogue entry only)")
    return ds


def _own_or_steward(caller: ApiClient, owner_id: str, what: str) -> None:
    if owner_id != caller.id and not permissions.is_steward(caller):
        raise NotFound(f"{what} not found")  # another client's request or grant does not exist for you


@router.post("/access-requests", status_code=201, summary="Ask for access to a dataset")
def create_request(
    body: RequestIn,
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    contracts: Contracts = Depends(get_contracts),
) -> JSONResponse:
    """File an access request; a data steward answers within 10 working days."""
    ds = _dataset(s, body.dataset)
    req = grants.request_access(
        s,
        caller,
        contracts.get(ds.key),
        fields=body.fields,
        clear_fields=body.clear_fields,
        row_filter=body.rows,
        purpose=body.purpose,
        legal_basis=body.legal_basis,
        wanted_until=body.expires,
    )
    return JSONResponse(request_dict(s, req), status_code=201)


@router.get("/access-requests", summary="Access requests: your own, or the stewards' queue")
def list_requests(
    status: grants.RequestStatus | None = Query(None, description="pending, approved or denied."),
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
) -> JSONResponse:
    """Stewards see every request (pending ones oldest first, with working days left); others their own."""
    rows = grants.requests(s, client=None if permissions.is_steward(caller) else caller, status=status)
    return JSONResponse({"count": len(rows), "requests": [request_dict(s, r) for r in rows]})


@router.get("/access-requests/{request_id}", summary="One access request")
def show_request(request_id: str, caller: ApiClient = Depends(require_client), s: Session = SESSION) -> JSONResponse:
    req = grants.request(s, request_id)
    _own_or_steward(caller, req.client_id, f"access request {request_id}")
    return JSONResponse(request_dict(s, req))


@router.post("/access-requests/{request_id}/approve", summary="Approve a request (stewards), possibly narrower")
def approve_request(
    request_id: str,
    body: ApproveIn,
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    contracts: Contracts = Depends(get_contracts),
) -> JSONResponse:
    permissions.require_steward(caller, "approve access requests")
    req = grants.request(s, request_id)
    made = grants.approve(
        s,
        req,
        caller,
        contracts.get(req.dataset),
        fields=body.fields,
        clear_fields=body.clear_fields,
        row_filter=body.rows,
        expires=body.expires,
    )
    return JSONResponse({"request": request_dict(s, req), "grant": grant_dict(s, made)})


@router.post("/access-requests/{request_id}/deny", summary="Refuse a request (stewards), with the reason")
def deny_request(
    request_id: str, body: DenyIn, caller: ApiClient = Depends(require_client), s: Session = SESSION
) -> JSONResponse:
    permissions.require_steward(caller, "refuse access requests")
    req = grants.request(s, request_id)
    grants.deny(s, req, caller, body.reason)
    return JSONResponse(request_dict(s, req))


@router.get("/grants", summary="Grants: your own, or everyone's for stewards")
def list_grants(
    client: str | None = Query(None, description="Stewards: only this client's grants."),
    dataset: str | None = Query(None, description="Only grants on this dataset id."),
    live: bool = Query(False, description="Only grants neither expired nor revoked."),
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
) -> JSONResponse:
    whose: ApiClient | None = caller
    if permissions.is_steward(caller):
        whose = clients.client(s, client) if client else None
    rows = grants.listing(s, client=whose, dataset=dataset, live_only=live)
    return JSONResponse({"count": len(rows), "grants": [grant_dict(s, g) for g in rows]})


@router.delete("/grants/{grant_id}", summary="Revoke a grant (stewards; or give up your own)")
def revoke_grant(grant_id: str, caller: ApiClient = Depends(require_client), s: Session = SESSION) -> JSONResponse:
    found = grants.grant(s, grant_id)
    _own_or_steward(caller, found.client_id, f"grant {grant_id}")
    grants.revoke(s, found)
    return JSONResponse(grant_dict(s, found))


@router.post("/datasets/{ref}/verify", summary="Does a record with these values exist? (yes / no)")
async def verify(
    ref: str,
    body: VerifyIn,
    request: Request,
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    contracts: Contracts = Depends(get_contracts),
    store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> JSONResponse:
    """Answers ``{"match": true|false}`` for the values given, never a stored value. Restricted and
    masked fields may be checked; the question must include an identifying field."""

    def ask() -> tuple[Dataset, Contract, Policy, Question]:
        ds = _dataset(s, ref)
        contract = contracts.get(ds.key)
        policy = policy_for(caller, ds, contract, grants.active(s, caller, ds.key))
        return ds, contract, policy, Question(contract, policy, {k: str(v) for k, v in body.match.items()})

    ds, contract, policy, question = await run(settings, ask)

    def answer(budget: int | None) -> tuple[ServingVersion, tuple[bool, str, list[object]]]:
        head, cur = store.cursor(ds.key)
        return head, question.ask(cur, store.rows(head.path), budget)

    head, (found, sql, params) = await quickly(
        settings, answer, can=question.row_store_sql() is not None and store.ready(ds.key)
    )
    event = audit.Event(
        action="verify",
        **audit.who(caller),
        dataset=contract.id,
        rows=0,
        fields=sorted(body.match),
        clear_fields=[],
        version=head.version if head.version > 0 else None,
        snapshot_id=str(head.snapshot_id),
        purpose=policy.purpose,
        request_id=getattr(request.state, "request_id", None),
        query=sql + "|" + "|".join(str(p) for p in params),
    )
    await gate.release_async(s, settings, caller, policy, event)
    return JSONResponse({"dataset": ds.name, "snapshot_id": str(head.snapshot_id), "match": found})


@router.get("/audit", summary="The audit log (stewards; publishers for their own datasets)")
def show_audit(
    client: str | None = Query(None),
    dataset: str | None = Query(None, description="Dataset id, e.g. population.residents."),
    since: dt.datetime | None = Query(None),
    until: dt.datetime | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
) -> JSONResponse:
    own: list[str] | None = None
    if not permissions.is_steward(caller):
        if caller.role != "publisher":
            raise Forbidden("the audit log is read by data stewards, and by departments for their own datasets")
        mine = s.scalars(select(Dataset).where(Dataset.origin == "contract"))
        own = [ds.key for ds in mine if permissions.member_of(caller, ds.organization)]
    rows = audit.records(s, client=client, dataset=dataset, since=since, until=until, datasets=own, limit=limit)
    return JSONResponse({"count": len(rows), "records": [audit.content(r) | {"hash": r.hash} for r in rows]})
