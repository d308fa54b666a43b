"""CKAN-shaped dictionaries of the catalogue (what ``package_show`` and friends return).

The hub's own metadata (the national catalogue elements, fields with classification, versions
with quality) rides along as extra top-level keys, which CKAN clients ignore and keep, and the
catalogue elements are repeated as CKAN ``extras`` (strings) so a plain CKAN keeps them too.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from catalog import licences, profile
from catalog.models import Activity, ApiClient, Dataset, Group, Organization, Resource, Version

# extras the hub computes from other fields: ignored when a dict comes back in
DERIVED_EXTRAS = frozenset(
    {"provider", "provider_code", "formats", "update_frequency_label", "resource_classification", "abstract"}
)
# extras the hub stores in typed columns
TYPED_EXTRAS = frozenset(
    {
        "sharing_type",
        "open_type",
        "update_frequency",
        "domain",
        "resource_code",
        "sharing_condition",
        "sharing_method",
        "release_date",
        "related_resource_codes",
        "information_items",
        "title_en",
    }
)


def iso(value: dt.datetime | None) -> str | None:
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
        "created": iso(org.created),
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def group_dict(group: Group, *, package_count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": group.id,
        "name": group.name,
        "title": group.title,
        "display_name": group.title,
        "title_en": group.title_en,
        "description": group.description,
        "kind": group.kind,
        "type": "group",
        "is_organization": False,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "created": iso(group.created),
    }
    known = profile.DOMAINS if group.kind == "domain" else {t.name: t for t in profile.THEMES.values()}
    if group.name in known:
        out["item_code"] = known[group.name].item_code
    if package_count is not None:
        out["package_count"] = package_count
    return out


def resource_dict(res: Resource, base_url: str) -> dict[str, Any]:
    url = res.url if "://" in res.url or not res.url else base_url + res.url
    extra = dict(res.extra)
    out = {
        **extra,
        "id": res.id,
        "package_id": res.dataset_id,
        "name": res.name,
        "description": res.description,
        "format": res.format,
        "url": url,
        "position": res.position,
        "created": iso(res.created),
        "last_modified": iso(res.modified),
        "metadata_modified": iso(res.modified or res.created),
        "state": "active",
        "url_type": extra.get("url_type") or ("api" if res.format == "JSON" else None),
        "mimetype": extra.get("mimetype"),
        "size": extra.get("size"),
        "generated": res.generated,
        "datastore_active": res.generated and bool(res.dataset.versions),
    }
    return out


def version_dict(v: Version, base_url: str = "") -> dict[str, Any]:
    out = {
        "version": v.number,
        "snapshot_id": str(v.snapshot_id),
        "published_at": iso(v.published_at),
        "row_count": v.row_count,
        "rows_rejected": v.rows_rejected,
        "source_file": v.source_file,
        "quality": v.quality,
        "lineage": v.lineage,
    }
    checked = (v.quality or {}).get("validation")
    if checked:  # GX's result and its Data Docs page (stewards and the publishing department: quality_api)
        api = f"{base_url}/api/v1/datasets/{v.dataset.name}"
        page = checked.get("data_docs_page")
        out["validation"] = {
            "result": f"{api}/versions/{v.number}/validation",
            "data_docs": f"{api}/quality/docs/{quote(page)}" if page else None,
        }
    return out


def _extra_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def catalogue_fields(ds: Dataset) -> dict[str, Any]:
    """The national catalogue elements as typed top-level values (dates as ISO strings)."""
    return profile.record(ds).model_dump(mode="json", exclude={"title"})


def extras(ds: Dataset, record: dict[str, Any]) -> list[dict[str, str]]:
    typed = {
        **{k: record[k] for k in sorted(TYPED_EXTRAS | DERIVED_EXTRAS) if k in record},
        "domain": ds.domain,
        "update_frequency": ds.update_frequency,
        "title_en": ds.title_en,
    }
    if ds.from_contract:
        typed["contract_id"] = ds.key
    out = [{"key": k, "value": _extra_value(v)} for k, v in sorted(typed.items()) if v not in (None, "", [])]
    out += [e for e in ds.extras if e["key"] not in typed]
    return sorted(out, key=lambda e: e["key"])


def _licence(ds: Dataset, base_url: str) -> dict[str, Any]:
    """``license_id``, ``license_title``, ``license_url`` (catalog/licences.py)."""
    licence = licences.of_dataset(ds)
    if licence is None:  # a CKAN id the hub does not know, kept as given
        return {"license_id": ds.meta.get("license_id"), "license_title": ds.licence, "license_url": None}
    return {"license_id": licence.id, "license_title": licence.title, "license_url": licence.uri(base_url)}


def package_dict(ds: Dataset, base_url: str) -> dict[str, Any]:
    latest = ds.versions[-1] if ds.versions else None
    record = catalogue_fields(ds)
    meta = ds.meta
    return {
        "id": ds.id,
        "name": ds.name,
        "title": ds.title,
        "title_en": ds.title_en,
        "notes": ds.notes,
        "type": "dataset",
        "state": ds.state,
        "private": ds.private,
        "version": ds.contract_version or None,
        "url": meta.get("url") or f"{base_url}/dataset/{ds.name}",
        **_licence(ds, base_url),
        "maintainer": ds.steward,
        "maintainer_email": meta.get("maintainer_email"),
        "author": meta.get("author") or ds.organization.title,
        "author_email": meta.get("author_email"),
        "metadata_created": iso(ds.created),
        "metadata_modified": iso(ds.modified),
        "owner_org": ds.organization_id,
        "organization": organization_dict(ds.organization),
        "tags": [{"name": t, "display_name": t, "state": "active"} for t in ds.tags],
        "num_tags": len(ds.tags),
        "groups": [group_dict(g) for g in ds.groups],
        "resources": [resource_dict(r, base_url) for r in ds.resources],
        "num_resources": len(ds.resources),
        "extras": extras(ds, record),
        **record,
        "domain": ds.domain,
        "origin": ds.origin,
        "contract_id": ds.key if ds.from_contract else None,
        "fields": ds.fields,
        "versions": [version_dict(v, base_url) for v in ds.versions],
        "latest_version": version_dict(latest, base_url) if latest else None,
    }


def user_dict(client: ApiClient, *, package_count: int = 0) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "fullname": client.name,
        "display_name": client.name,
        "about": "",
        "role": client.role,
        "organization": client.organization,
        "sysadmin": client.role == "steward",
        "state": "active",
        "created": iso(client.created),
        "number_created_packages": package_count,
    }


def activity_dict(row: Activity) -> dict[str, Any]:
    return {
        "id": row.id,
        "timestamp": iso(row.timestamp),
        "user_id": row.user_id,
        "user_name": row.user_name,
        "object_id": row.object_id,
        "activity_type": row.activity_type,
        "data": row.data,
    }


def _codes(value: Any, hides: Callable[[str], bool]) -> Any:
    """A resource-code list (a list, or its JSON text in an extra) without the hidden codes."""
    if isinstance(value, list):
        return [c for c in value if not hides(str(c))]
    if isinstance(value, str) and value.startswith("["):
        try:
            codes = json.loads(value)
        except ValueError:
            return value
        return json.dumps([c for c in codes if not hides(str(c))], ensure_ascii=False)
    return value


def _lineage(version: dict[str, Any] | None, hides: Callable[[str], bool]) -> dict[str, Any] | None:
    if not version or not isinstance(version.get("lineage"), dict):
        return version
    lineage = dict(version["lineage"])
    inputs = lineage.get("inputs")
    if isinstance(inputs, dict):
        shown = {k: v for k, v in inputs.items() if not hides(k)}
        if len(shown) < len(inputs):
            lineage["inputs"] = shown
            lineage["inputs_not_shown"] = len(inputs) - len(shown)
    return version | {"lineage": lineage}


def without(pkg: dict[str, Any], hides: Callable[[str], bool]) -> dict[str, Any]:
    """``pkg`` as a caller sees it who may not learn of the datasets ``hides`` names: their ids,
    contract ids, snapshot ids and resource codes leave neither through lineage nor related codes."""
    out = dict(pkg)
    if "related_resource_codes" in out:
        out["related_resource_codes"] = _codes(out["related_resource_codes"], hides)
    out["extras"] = [
        e | {"value": _codes(e["value"], hides)} if e.get("key") == "related_resource_codes" else e
        for e in out.get("extras", [])
    ]
    out["versions"] = [_lineage(v, hides) for v in out.get("versions", [])]
    out["latest_version"] = _lineage(out.get("latest_version"), hides)
    return out
