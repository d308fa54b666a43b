"""The activity stream: every change to a dataset, who made it, and a snapshot of what it became."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Activity, ApiClient, Dataset, utcnow

NEW, CHANGED, DELETED = "new package", "changed package", "deleted package"
PIPELINE = "pipeline"  # the user name shown for changes made by the ingestion DAG


def record(
    s: Session, ds: Dataset, activity_type: str, message: str, *, by: ApiClient | None = None, **detail: Any
) -> Activity:
    """Add one activity for a dataset (``by`` None means the pipeline registered the change)."""
    row = Activity(
        id=str(uuid.uuid4()),
        timestamp=utcnow(),
        user_id=by.id if by else None,
        user_name=by.name if by else PIPELINE,
        object_id=ds.id,
        activity_type=activity_type,
        data={
            "package": {
                "id": ds.id,
                "name": ds.name,
                "title": ds.title,
                "private": ds.private,
                "state": ds.state,
                "owner_org": ds.organization_id,
                "resource_code": ds.resource_code,
            },
            "message": message,
            **detail,
        },
    )
    s.add(row)
    return row


def for_dataset(s: Session, ds: Dataset, *, offset: int = 0, limit: int = 31) -> list[Activity]:
    """Newest first, as CKAN lists them."""
    stmt = (
        select(Activity)
        .where(Activity.object_id == ds.id)
        .order_by(Activity.timestamp.desc(), Activity.id)
        .offset(offset)
        .limit(limit)
    )
    return list(s.scalars(stmt))
