"""Changing datasets and resources through CKAN actions (departments and groups: organizations.py).

Datasets registered from a contract keep their contract-derived metadata: an update may resend
those values unchanged (``ckanapi load`` does) but not change them; only themes (groups),
related resource codes, free extras and extra (non-generated) resources are editable there.
Datasets made with package_create are catalogue-only: every field is editable, there is no
warehouse data. Every change that alters what ``package_show`` returns is recorded as activity.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog import activity, inputs, licences, lookup, permissions, profile, service, uploads
from catalog.ckan import package_dict
from catalog.errors import ValidationFailed, invalid
from catalog.inputs import PackageIn
from catalog.models import ApiClient, Dataset, Group, Organization, Resource, utcnow
from hub.errors import NotFound

UNCHANGED_KEYS = frozenset({"metadata_modified"})


def _snapshot(ds: Dataset) -> dict[str, Any]:
    return {k: v for k, v in package_dict(ds, "").items() if k not in UNCHANGED_KEYS}


def changed_keys(before: dict[str, Any], ds: Dataset) -> list[str]:
    after = _snapshot(ds)
    return sorted(k for k in after.keys() | before.keys() if before.get(k) != after.get(k))


def _finish(s: Session, ds: Dataset, before: dict[str, Any] | None, by: ApiClient | None, what: str) -> None:
    """Refresh search text and time, and record the activity, if anything visible changed."""
    s.flush()
    if before is None:
        service.refresh(s, ds)
        activity.record(s, ds, activity.NEW, f"{what} by {by.name if by else 'the hub'}", by=by)
        return
    keys = changed_keys(before, ds)
    if keys:
        service.refresh(s, ds)
        activity.record(s, ds, activity.CHANGED, f"{what}: {', '.join(keys)}", by=by, changed=keys)


def _organization(s: Session, ref: str) -> Organization:
    try:
        return lookup.organization(s, ref)
    except NotFound:
        raise invalid("owner_org", "Organization does not exist") from None


def _groups(s: Session, refs: list[inputs.Ref]) -> list[Group]:
    found = []
    for ref in refs:
        try:
            found.append(lookup.group(s, ref.ref))
        except NotFound:
            raise invalid("groups", f"Group not found: {ref.ref}") from None
    return list(dict.fromkeys(found))


def _name_free(s: Session, name: str, contracts_dir: Path, ds: Dataset | None = None) -> None:
    """Names are unique, and a name a contract will take (``domain-table``) is kept for it."""
    holder = s.scalar(select(Dataset).where(Dataset.name == name))
    if holder is not None and holder is not ds:
        raise invalid("name", "That URL is already in use.")
    domain, _, table = name.partition("-")
    if table and (contracts_dir / f"{domain}.{table}.yaml").exists():
        raise invalid("name", f"reserved for the dataset of contract {domain}.{table}")


def _code(s: Session, ds: Dataset, code: str | None) -> None:
    if not code or code == ds.resource_code:
        return
    if ds.resource_code:
        raise invalid("resource_code", f"a resource code never changes (this dataset's is {ds.resource_code})")
    if s.scalar(select(Dataset).where(Dataset.resource_code == code)) is not None:
        raise invalid("resource_code", f"resource code {code} is taken")
    ds.resource_code = code


def _visibility(pkg: PackageIn, ds: Dataset) -> None:
    if pkg.open_type is not None:
        private = pkg.open_type.value == "不予开放"
        if pkg.private is not None and pkg.private != private:
            raise invalid("private", "must be true exactly when open_type is 不予开放")
        ds.open_type, ds.private = pkg.open_type.value, private
    else:
        ds.private = bool(pkg.private)
        ds.open_type = "不予开放" if ds.private else "有条件开放"


def _set_groups(s: Session, ds: Dataset, pkg: PackageIn) -> None:
    if pkg.groups is not None:
        chosen = _groups(s, pkg.groups)
        if ds.from_contract:  # the groups the contract puts it in stay; other domains cannot be added
            fixed = [g for g in ds.groups if g.name in ds.meta.get("contract_groups", [])]
            chosen = [*fixed, *[g for g in chosen if g.kind != "domain"]]
        ds.groups = list(dict.fromkeys(chosen))
    elif not ds.groups and ds.domain in profile.DOMAINS:
        ds.groups = [service.domain_group(s, ds.domain)]
    if not ds.from_contract:
        domains = [g.name for g in ds.groups if g.kind == "domain"]
        ds.domain = domains[0] if domains else (pkg.domain or ds.domain or "")


def _apply_catalogue(s: Session, ds: Dataset, pkg: PackageIn) -> None:
    """Full update of a catalogue-only dataset (omitted fields reset; resources and groups kept)."""
    ds.name = pkg.name or ds.name
    ds.title = pkg.title or ds.name
    ds.title_en, ds.notes = pkg.title_en, pkg.notes or ""
    _visibility(pkg, ds)
    ds.sharing_type = pkg.sharing_type.value if pkg.sharing_type else "有条件共享"
    ds.sharing_condition = pkg.sharing_condition
    ds.update_frequency = pkg.update_frequency or "irregular"
    ds.contract_version = pkg.version or ""
    ds.licence, ds.steward = pkg.license_title, pkg.maintainer
    ds.tags = pkg.tag_names() or []
    ds.fields = [{**f.model_dump(mode="json"), "title": f.title or f.name} for f in pkg.fields or []]
    ds.related_codes = pkg.related_resource_codes or []
    ds.extras = pkg.free_extras()
    meta = {
        "url": pkg.url,
        "author": pkg.author,
        "author_email": pkg.author_email,
        "maintainer_email": pkg.maintainer_email,
        "license_id": pkg.license_id,
        "release_date": pkg.release_date.isoformat() if pkg.release_date else None,
        "sharing_method": pkg.sharing_method,
    }
    ds.meta = {k: v for k, v in meta.items() if v not in (None, "", [])}
    _set_groups(s, ds, pkg)
    _code(s, ds, pkg.resource_code)


DERIVED = (
    "name title title_en notes private version license_title maintainer sharing_type open_type "
    "update_frequency sharing_condition resource_code domain"
).split()


def _derived_now(ds: Dataset) -> dict[str, Any]:
    return {
        "name": ds.name,
        "title": ds.title,
        "title_en": ds.title_en,
        "notes": ds.notes,
        "private": ds.private,
        "version": ds.contract_version,
        "license_title": lic.title if (lic := licences.of_dataset(ds)) else ds.licence,
        "maintainer": ds.steward,
        "sharing_type": ds.sharing_type,
        "open_type": ds.open_type,
        "update_frequency": ds.update_frequency,
        "sharing_condition": ds.sharing_condition,
        "resource_code": ds.resource_code,
        "domain": ds.domain,
        "tags": sorted(ds.tags),
        "fields": [(f["name"], f.get("type"), f.get("classification")) for f in ds.fields],
    }


def _check_derived(s: Session, ds: Dataset, pkg: PackageIn) -> None:
    now = _derived_now(ds)
    sent = {k: getattr(pkg, k) for k in DERIVED if getattr(pkg, k) is not None}
    sent = {k: (v.value if hasattr(v, "value") else v) for k, v in sent.items()}
    if pkg.tag_names() is not None:
        sent["tags"] = sorted(pkg.tag_names() or [])
    if pkg.fields is not None:
        sent["fields"] = [(f.name, f.type, f.classification.value) for f in pkg.fields]
    if pkg.owner_org and _organization(s, pkg.owner_org).id != ds.organization_id:
        sent["owner_org"] = pkg.owner_org
    errors = {
        k: [f"derived from contract {ds.key}: change the contract, not the catalogue"]
        for k, v in sent.items()
        if now.get(k) != v
    }
    if errors:
        raise ValidationFailed(errors)


def _apply_contract_backed(s: Session, ds: Dataset, pkg: PackageIn) -> None:
    _check_derived(s, ds, pkg)
    _set_groups(s, ds, pkg)
    if pkg.related_resource_codes is not None:
        ds.related_codes = pkg.related_resource_codes
    if pkg.extras is not None:
        ds.extras = [e for e in pkg.free_extras() if e["key"] != "contract_id"]


def _sync_resources(s: Session, ds: Dataset, specs: list[inputs.ResourceIn] | None) -> None:
    """The listed resources replace the dataset's non-generated ones; generated ones stay."""
    if specs is None:
        return
    kept = [r for r in ds.resources if r.generated]
    current = {r.id: r for r in ds.resources if not r.generated}
    generated_ids = {r.id for r in kept}
    for spec in specs:
        if spec.id in generated_ids:
            continue
        res = current.pop(spec.id, None) if spec.id else None
        if res is None:
            res = Resource(id=uploads.new_resource_id(s, spec.id), created=utcnow(), generated=False)
        _fill_resource(res, spec)
        kept.append(res)
    for pos, res in enumerate(kept):
        res.position = pos
    ds.resources = kept


def _fill_resource(res: Resource, spec: inputs.ResourceIn) -> None:
    """Set a resource from its dict; its modification time moves only when something changed."""
    values = (spec.name or "", spec.url or "", (spec.format or "").strip(), spec.description or "", spec.free_fields())
    current = (res.name, res.url, res.format, res.description, res.extra)
    if res.modified is not None and values == current:
        return
    res.name, res.url, res.format, res.description, res.extra = values
    res.modified = utcnow()


def create_package(s: Session, data: dict[str, Any], caller: ApiClient | None, contracts_dir: Path) -> Dataset:
    permissions.require_editor(caller, "create datasets")
    pkg = inputs.package(data)
    missing = {k: ["Missing value"] for k in ("name", "owner_org") if not getattr(pkg, k)}
    if missing:
        raise ValidationFailed(missing)
    org = _organization(s, pkg.owner_org or "")
    permissions.require_edit(caller, org, f"create datasets in {org.name}")
    _name_free(s, pkg.name or "", contracts_dir)
    ds_id = pkg.id if pkg.id and s.get(Dataset, pkg.id) is None else str(uuid.uuid4())
    ds = Dataset(id=ds_id, key=f"catalogue:{ds_id}", origin="catalogue", created=utcnow(), modified=utcnow())
    ds.organization, ds.domain, ds.versions, ds.resources, ds.groups = org, "", [], [], []
    s.add(ds)
    _apply_catalogue(s, ds, pkg)
    _sync_resources(s, ds, pkg.resources)
    profile.assign_code(s, ds)
    _finish(s, ds, None, caller, "created with package_create")
    return ds


def update_package(
    s: Session, ds: Dataset, data: dict[str, Any], caller: ApiClient | None, contracts_dir: Path, what: str
) -> Dataset:
    permissions.require_edit(caller, ds.organization, f"edit dataset {ds.name}")
    pkg = inputs.package(data)
    before = _snapshot(ds)
    if ds.from_contract:
        _apply_contract_backed(s, ds, pkg)
    else:
        if pkg.name and pkg.name != ds.name:
            _name_free(s, pkg.name, contracts_dir, ds)
        if pkg.owner_org:
            org = _organization(s, pkg.owner_org)
            permissions.require_edit(caller, org, f"move datasets to {org.name}")
            ds.organization, ds.organization_id = org, org.id
        _apply_catalogue(s, ds, pkg)
    _sync_resources(s, ds, pkg.resources)
    _finish(s, ds, before, caller, what)
    return ds


def patch_package(
    s: Session, ds: Dataset, data: dict[str, Any], caller: ApiClient | None, contracts_dir: Path
) -> Dataset:
    """Only the given keys change (CKAN merges them onto package_show)."""
    current = package_dict(ds, "")
    for key in ("resources", "information_items", "extras"):
        current.pop(key)
    current["extras"] = ds.extras
    for key in ("url", "author", "license_id", "sharing_method", "release_date"):  # derived unless supplied
        if key not in ds.meta:
            current.pop(key)
    merged = {**current, **data}
    if "tags" not in data and "tag_string" in data:
        merged.pop("tags")
    return update_package(s, ds, merged, caller, contracts_dir, "changed with package_patch")


def delete_package(s: Session, ds: Dataset, caller: ApiClient | None) -> None:
    permissions.require_edit(caller, ds.organization, f"delete dataset {ds.name}")
    if ds.from_contract:
        raise invalid("id", f"dataset of contract {ds.key}: retire the contract (status: retired) to withdraw it")
    ds.state = "deleted"
    service.refresh(s, ds)
    activity.record(s, ds, activity.DELETED, f"deleted by {caller.name if caller else 'the hub'}", by=caller)


def add_resource(
    s: Session, ds: Dataset, data: dict[str, Any], caller: ApiClient | None, *, resource_id: str | None = None
) -> Resource:
    """A new resource; ``resource_id`` is one already chosen with ``uploads.new_resource_id`` (a file
    was stored under it), else the id is chosen here the same way."""
    permissions.require_edit(caller, ds.organization, f"add resources to {ds.name}")
    spec = inputs.resource(data)
    before = _snapshot(ds)
    res = Resource(id=resource_id or uploads.new_resource_id(s, spec.id), created=utcnow(), generated=False)
    position = s.scalar(select(func.max(Resource.position)).where(Resource.dataset_id == ds.id))
    res.position = (position if position is not None else -1) + 1
    _fill_resource(res, spec)
    ds.resources.append(res)
    _finish(s, ds, before, caller, f"resource {res.name or res.id} added")
    return res


def _editable(res: Resource) -> None:
    if res.generated:
        raise invalid("id", "this resource is generated from the dataset's contract and cannot be changed")


def update_resource(
    s: Session, res: Resource, data: dict[str, Any], caller: ApiClient | None, *, patch: bool = False
) -> Resource:
    ds = res.dataset
    permissions.require_edit(caller, ds.organization, f"edit resources of {ds.name}")
    _editable(res)
    if patch:
        current = {"name": res.name, "url": res.url, "format": res.format, "description": res.description}
        data = {**current, **res.extra, **data}
    before = _snapshot(ds)
    _fill_resource(res, inputs.resource({**data, "id": res.id}))
    _finish(s, ds, before, caller, f"resource {res.name or res.id} changed")
    return res


def delete_resource(s: Session, res: Resource, caller: ApiClient | None) -> None:
    ds = res.dataset
    permissions.require_edit(caller, ds.organization, f"delete resources of {ds.name}")
    _editable(res)
    before = _snapshot(ds)
    ds.resources.remove(res)
    s.delete(res)
    _finish(s, ds, before, caller, f"resource {res.name or res.id} deleted")
