"""The contract registry over HTTP: propose a contract or a change, list versions, decide.

Routes only translate HTTP to :mod:`stewardship.registry`; who may do what is
:mod:`stewardship.lifecycle`'s table (a refusal is 403, a step the version's status does not
allow 409, a contract that fails the loader's checks 400). Contracts are metadata: any
identified caller may read them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import yaml
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from catalog.models import ApiClient, aware
from exchange_api.deps import SESSION, get_settings, require_client
from exchange_api.responses import JSONResponse
from hub.errors import BadParameter, NotFound
from hub.settings import Settings
from stewardship import registry
from stewardship.lifecycle import ACTIONS
from stewardship.registry import ContractVersion

router = APIRouter(prefix="/api/v1", tags=["contracts"])


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=2000, description="Why; required to reject.")
    migration_date: dt.date | None = Field(
        default=None, description="approve only: the day the version becomes active (default: at once)."
    )


def version_dict(v: ContractVersion, *, text: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "dataset": v.dataset,
        "version": v.version,
        "status": v.status,
        "department": v.department,
        "sha256": v.sha256,
        "proposed_by": v.proposed_by,
        "decided_by": v.decided_by,
        "reason": v.reason,
        "migration_date": v.migration_date.isoformat() if v.migration_date else None,
        "created": aware(v.created).isoformat(),
        "updated": aware(v.updated).isoformat(),
    }
    if text:
        out["contract"] = v.text
    return out


async def proposal_text(request: Request) -> str:
    """The body as contract YAML: sent as YAML (any text type), or as JSON (turned into YAML)."""
    body = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind.endswith("json"):
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadParameter(f"the body is not valid JSON: {exc}") from None
        return str(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadParameter("the contract must be UTF-8 text (YAML or JSON)") from None


PROPOSAL_BODY = {
    "required": True,
    "description": "The ODCS v3.1.0 contract, as YAML or as JSON.",
    "content": {"application/yaml": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "object"}}},
}


@router.post(
    "/contracts",
    status_code=201,
    summary="Propose a contract or a new version of one",
    openapi_extra={"requestBody": PROPOSAL_BODY},
)
def propose(
    text: str = Depends(proposal_text),
    draft: bool = Query(False, description="Keep it as a draft (submit it later)."),
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> JSONResponse:
    """Send the ODCS v3.1.0 contract as YAML (``Content-Type: application/yaml``) or JSON. It is
    checked like a contract the hub loads and kept as proposed until a data steward decides. A
    department's publisher proposes for its own department only; stewards for any."""
    v = registry.propose(s, settings, caller, text, where="the request body", draft=draft)
    return JSONResponse(version_dict(v), status_code=201)


@router.get("/contracts", summary="Every dataset's contract: active version and changes waiting")
def list_contracts(
    _caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> JSONResponse:
    registry.seed(s, settings)
    rows = [
        {
            "dataset": x.dataset,
            "active": x.active,
            "current": x.current,
            "status": x.current_status,
            "pending": x.pending,
        }
        for x in registry.summaries(s)
    ]
    return JSONResponse({"contracts": rows})


@router.get("/contracts/{dataset}/versions", summary="Every version of a dataset's contract")
def list_versions(
    dataset: str,
    _caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> JSONResponse:
    registry.seed(s, settings)
    rows = registry.versions(s, dataset)
    if not rows:
        raise NotFound(f"no contract for dataset {dataset!r}; known: {', '.join(registry.datasets(s))}")
    return JSONResponse({"dataset": dataset, "versions": [version_dict(v) for v in rows]})


@router.get("/contracts/{dataset}/versions/{version}", summary="One version: the contract text and its steps")
def show_version(
    dataset: str,
    version: str,
    fmt: str = Query("json", alias="format", pattern="^(json|yaml)$", description="json (default) or yaml."),
    _caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> Any:
    registry.seed(s, settings)
    v = registry.version(s, dataset, version)
    if fmt == "yaml":
        from starlette.responses import Response

        return Response(v.text, media_type="application/yaml; charset=utf-8")
    steps = [
        {
            "action": x.action,
            "from": x.source,
            "to": x.target,
            "by": x.by,
            "at": aware(x.at).isoformat(),
            "note": x.note,
        }
        for x in registry.steps(s, dataset, version)
    ]
    return JSONResponse(version_dict(v, text=True) | {"steps": steps})


def _decision_route(action: str) -> None:
    def decide(
        dataset: str,
        version: str,
        body: Decision | None = None,
        caller: ApiClient = Depends(require_client),
        s: Session = SESSION,
        settings: Settings = Depends(get_settings),
    ) -> JSONResponse:
        given = body or Decision()
        v = registry.act(
            s, settings, caller, dataset, version, action, reason=given.reason, migration_date=given.migration_date
        )
        return JSONResponse(version_dict(v))

    decide.__name__ = f"{action}_contract_version"
    router.post(
        f"/contracts/{{dataset}}/versions/{{version}}/{action}",
        summary=f"{action.capitalize()} a contract version",
        description="Who may: docs/stewardship.md (only a data steward approves, never its own department's change).",
    )(decide)


for _action in ACTIONS:
    _decision_route(_action)
