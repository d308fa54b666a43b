"""The caller's inbox of contract-change notices (:mod:`stewardship.notices`): which dataset it
reads changed its contract, how, and by when it must have migrated."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from catalog.models import ApiClient, aware
from exchange_api.deps import SESSION, require_client
from exchange_api.responses import JSONResponse
from stewardship import notices
from stewardship.notices import ContractNotice

router = APIRouter(prefix="/api/v1", tags=["notices"])


def notice_dict(n: ContractNotice) -> dict[str, Any]:
    return {
        "id": n.id,
        "dataset": n.dataset,
        "old_version": n.old_version,
        "new_version": n.new_version,
        "impact": n.impact,
        "migration_date": n.migration_date.isoformat() if n.migration_date else None,
        "changes": n.changes,
        "reads_through": n.reads_through,
        "created": aware(n.created).isoformat(),
    }


@router.get("/notices", summary="Your notices of contract changes to datasets you read, newest first")
def list_notices(
    dataset: str | None = Query(None, max_length=200, description="Only notices about this dataset id."),
    limit: int = Query(100, ge=1, le=1000),
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
) -> JSONResponse:
    """A notice is written when a steward approves a contract change that reaches a field you read
    under a grant, or any field of a dataset you subscribe to. Each lists the changes that reach
    you, their impact (breaking, policy, compatible) and, for a breaking change, the migration date."""
    rows = notices.inbox(s, caller, dataset=dataset, limit=limit)
    return JSONResponse({"count": len(rows), "notices": [notice_dict(n) for n in rows]})
