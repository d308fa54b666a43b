"""CKAN-shaped dictionaries of the catalogue (what ``package_show`` and friends return).

The hub's own metadata (sharing and open type, fields with classification, versions with
quality) rides along as extra top-level keys, which CKAN clients ignore and keep.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from catalog.models import Dataset, Organization, Resource, Version


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat()


def organization_dict(org: Organization, *, package_count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": org.id,
        "name": org.name,
        "title": org.title,
        "display_name": org.title,
        "title_en": org.title_en,
        "description": org.description,
        "department_code": org.code,
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "created": _iso(org.created),
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def resource_dict(res: Resource, base_url: str) -> dict[str, Any]:
    url = res.url if "://" in res.url else base_url + res.url
    return {
        "id": res.id,
        "package_id": res.dataset_id,
        "name": res.name,
        "description": res.description,
        "format": res.format,
        "url": url,
        "position": res.position,
        "created": _iso(res.created),
        "state": "active",
        "url_type": "api" if res.format == "JSON" else None,
    }


def version_dict(v: Version) -> dict[str, Any]:
    return {
        "version": v.number,
        "snapshot_id": str(v.snapshot_id),
        "published_at": _iso(v.published_at),
        "row_count": v.row_count,
        "rows_rejected": v.rows_rejected,
        "source_file": v.source_file,
        "quality": v.quality,
        "lineage": v.lineage,
    }


def package_dict(ds: Dataset, base_url: str) -> dict[str, Any]:
    latest = ds.versions[-1] if ds.versions else None
    extras = {
        "sharing_type": ds.sharing_type,
        "open_type": ds.open_type,
        "update_frequency": ds.update_frequency,
        "domain": ds.domain,
        "contract_id": ds.key,
    }
    return {
        "id": ds.id,
        "name": ds.name,
        "title": ds.title,
        "title_en": ds.title_en,
        "notes": ds.notes,
        "type": "dataset",
        "state": ds.state,
        "private": ds.private,
        "version": ds.contract_version,
        "url": f"{base_url}/dataset/{ds.name}",
        "license_id": "gov-sharing",
        "license_title": ds.licence,
        "maintainer": ds.steward,
        "author": ds.organization.title,
        "metadata_created": _iso(ds.created),
        "metadata_modified": _iso(ds.modified),
        "owner_org": ds.organization_id,
        "organization": organization_dict(ds.organization),
        "tags": [{"name": t, "display_name": t, "state": "active"} for t in ds.tags],
        "num_tags": len(ds.tags),
        "groups": [],
        "resources": [resource_dict(r, base_url) for r in ds.resources],
        "num_resources": len(ds.resources),
        "extras": [{"key": k, "value": v} for k, v in extras.items()],
        **extras,
        "fields": ds.fields,
        "versions": [version_dict(v) for v in ds.versions],
        "latest_version": version_dict(latest) if latest else None,
    }
