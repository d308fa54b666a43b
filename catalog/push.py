"""Publish the hub's datasets in another CKAN through ckanapi (``hub catalog push``).

The push sends what any CKAN keeps: core fields, tags, groups, resources (links back to the hub)
and the national catalogue elements as ``extras`` strings; nested hub-only keys are left out so a
plain CKAN accepts the dicts (a receiving hub reads the elements back from the extras). Each
dataset is compared with what the target already shows, and created, updated or left alone: a
second push with nothing changed makes no write at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ckanapi
from sqlalchemy import select

from catalog import db
from catalog.ckan import package_dict
from catalog.models import Dataset
from hub.errors import NotFound
from hub.settings import Settings

CORE = ("name", "title", "notes", "private", "url", "version", "author", "maintainer", "license_id", "license_title")
COMPARED = ("name", "title", "notes", "private", "url", "version", "author", "maintainer", "license_id")


@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    organizations: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.failed)} failed"
        )


def payload(pkg: dict[str, Any]) -> dict[str, Any]:
    """A hub package dict reduced to what a plain CKAN accepts and keeps."""
    out: dict[str, Any] = {k: pkg.get(k) for k in CORE if pkg.get(k) is not None}
    out["owner_org"] = pkg["organization"]["name"]
    out["tags"] = [{"name": t["name"]} for t in pkg["tags"]]
    out["groups"] = [{"name": g["name"]} for g in pkg["groups"]]
    out["resources"] = [
        {k: r[k] for k in ("name", "url", "format", "description") if r.get(k) is not None} for r in pkg["resources"]
    ]
    out["extras"] = [{"key": e["key"], "value": e["value"]} for e in pkg["extras"]]
    return out


def projection(pkg: dict[str, Any]) -> dict[str, Any]:
    """What a push controls, in a form both the hub's and the target's dicts reduce to."""
    org = pkg.get("organization") or {}
    return {
        **{k: pkg.get(k) or None for k in COMPARED},
        "private": bool(pkg.get("private")),
        "owner_org": org.get("name") if isinstance(org, dict) and org else pkg.get("owner_org"),
        "tags": sorted(t["name"] for t in pkg.get("tags") or []),
        "groups": sorted(g["name"] for g in pkg.get("groups") or []),
        "resources": [
            tuple(r.get(k) or "" for k in ("name", "url", "format", "description")) for r in pkg.get("resources") or []
        ],
        "extras": {e["key"]: e["value"] for e in pkg.get("extras") or [] if e.get("value") not in (None, "")},
    }


def _local(settings: Settings, names: list[str] | None, public_only: bool) -> list[dict[str, Any]]:
    with db.session(settings.db_url) as s:
        rows = list(s.scalars(select(Dataset).where(Dataset.state == "active").order_by(Dataset.name)))
        unknown = sorted(set(names or ()) - {d.name for d in rows} - {d.key for d in rows})
        if unknown:
            raise NotFound(f"no dataset {', '.join(map(repr, unknown))} in the catalogue")
        chosen = [
            d for d in rows if (not names or d.name in names or d.key in names) and not (public_only and d.private)
        ]
        return [package_dict(d, settings.base_url) for d in chosen]


def _ensure_organization(remote: ckanapi.RemoteCKAN, org: dict[str, Any], report: Report) -> None:
    try:
        remote.action.organization_show(id=org["name"])
    except ckanapi.NotFound:
        keys = ("name", "title", "title_en", "description", "department_code")
        remote.action.organization_create(**{k: org[k] for k in keys if org.get(k)})
        report.organizations.append(org["name"])


def _ensure_group(remote: ckanapi.RemoteCKAN, group: dict[str, Any], report: Report) -> None:
    try:
        remote.action.group_show(id=group["name"])
    except ckanapi.NotFound:
        remote.action.group_create(
            **{k: group[k] for k in ("name", "title", "title_en", "description") if group.get(k)}
        )
        report.groups.append(group["name"])


def _keep_resource_ids(data: dict[str, Any], existing: dict[str, Any]) -> None:
    """Send back the target's resource ids for the same links, so updates do not churn ids."""
    ids = {(r.get("url"), r.get("name")): r["id"] for r in existing.get("resources") or []}
    for res in data["resources"]:
        rid = ids.get((res.get("url"), res.get("name")))
        if rid:
            res["id"] = rid


def push_one(remote: ckanapi.RemoteCKAN, pkg: dict[str, Any], report: Report) -> None:
    _ensure_organization(remote, pkg["organization"], report)
    for group in pkg["groups"]:
        _ensure_group(remote, group, report)
    data = payload(pkg)
    try:
        existing = remote.action.package_show(id=pkg["name"])
    except ckanapi.NotFound:
        remote.action.package_create(**data)
        report.created.append(pkg["name"])
        return
    if projection(existing) == projection(data):
        report.unchanged.append(pkg["name"])
        return
    _keep_resource_ids(data, existing)
    remote.action.package_update(id=existing["id"], **data)
    report.updated.append(pkg["name"])


def push(
    settings: Settings,
    remote: ckanapi.RemoteCKAN,
    *,
    datasets: list[str] | None = None,
    public_only: bool = False,
) -> Report:
    """Create or update each dataset in the target CKAN; failures are reported per dataset."""
    report = Report()
    for pkg in _local(settings, datasets, public_only):
        try:
            push_one(remote, pkg, report)
        except ckanapi.ValidationError as exc:
            report.failed[pkg["name"]] = f"rejected by the target: {exc.error_dict}"
        except ckanapi.NotAuthorized as exc:
            report.failed[pkg["name"]] = f"the token may not do this on the target: {exc}"
        except ckanapi.CKANAPIError as exc:
            report.failed[pkg["name"]] = str(exc)
    return report
