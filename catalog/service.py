"""Catalogue operations: register datasets from contracts, record versions and files."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from catalog import activity, cache, licences, profile
from catalog.activity import PIPELINE
from catalog.models import Dataset, Group, IngestedFile, Organization, Resource, Version, utcnow
from catalog.search import search_text
from contracts import model
from contracts.model import Contract
from hub.errors import NotFound

NAMESPACE = uuid.UUID("6f1c7a52-4e0b-5d43-9a57-0b7f1d2c3e41")


def stable_id(*parts: str) -> str:
    """A UUID derived from names, so re-registering gives the same ids on every machine."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _organization(s: Session, contract: Contract) -> Organization:
    dept = contract.department
    org = s.scalar(select(Organization).where(Organization.code == dept.code))
    if org is None:
        org = Organization(id=stable_id("org", dept.code), code=dept.code, name=f"dept-{dept.code}")
        s.add(org)
    org.title, org.title_en = dept.name, dept.name_en
    return org


def _resources(contract: Contract) -> list[dict[str, Any]]:
    name = contract.ckan_name
    return [
        {
            "name": "记录接口 Records API",
            "format": "JSON",
            "url": f"/api/v1/datasets/{name}/records",
            "description": "按授权返回记录，敏感字段默认脱敏。Records under your grant; sensitive fields masked.",
        },
        {
            "name": "Iceberg 表 Iceberg table",
            "format": "Parquet",
            "url": f"iceberg://{contract.domain}/{contract.table}",
            "description": "每个版本一个快照，可时间旅行查询。One snapshot per version; time travel by version.",
        },
    ]


CONTRACT_KEYS = (
    "name title title_en notes domain organization_id contract_version sharing_type open_type "
    "update_frequency licence steward tags fields private sharing_condition"
).split()


def _fingerprint(ds: Dataset) -> dict[str, Any]:
    values = {k: getattr(ds, k, None) for k in CONTRACT_KEYS}
    values["input_codes"] = ds.meta.get("input_codes", [])
    values["resources"] = [(r.id, r.name, r.format, r.url, r.description) for r in ds.resources if r.generated]
    return values


def domain_group(s: Session, domain: str) -> Group:
    """The CKAN group of a base-data domain (seeded by migrations; unknown domains get one too)."""
    known = profile.DOMAINS.get(domain)
    return _group(s, domain, known.title if known else domain, known.title_en if known else None, "domain")


def theme_group(s: Session, theme: profile.Domain) -> Group:
    """The CKAN group of a theme library (专题库), made when its first derived dataset registers."""
    return _group(s, theme.name, theme.title, theme.title_en, "theme")


def _group(s: Session, name: str, title: str, title_en: str | None, kind: str) -> Group:
    group = s.scalar(select(Group).where(Group.name == name))
    if group is None:
        group = Group(id=stable_id("group", name), name=name, title=title, title_en=title_en, description="", kind=kind)
        s.add(group)
        s.flush()
    return group


def _contract_groups(s: Session, contract: Contract) -> list[Group]:
    """A base dataset belongs to its domain; a derived one to the theme of its 专题库."""
    if contract.domain != profile.DERIVED_DOMAIN and not contract.derived:
        return [domain_group(s, contract.domain)]
    theme = profile.theme_for(contract.data_product)
    return [theme_group(s, theme)] if theme else []


def _input_codes(s: Session, contract: Contract) -> list[str]:
    """关联资源代码 of a derived dataset: the codes of the datasets it is built from."""
    inputs = list(contract.derived_from)
    if not inputs:
        return []
    rows = s.execute(select(Dataset.key, Dataset.resource_code).where(Dataset.key.in_(inputs))).all()
    codes = {key: code for key, code in rows if code}
    return [codes[k] for k in inputs if k in codes]


def _contract_finder(contract: Contract) -> Callable[[str], Contract | None]:
    """Contracts of ``contract``'s inputs, from the folder it was loaded from."""
    folder = Path(contract.path).parent if contract.path else None

    def find(dataset: str) -> Contract | None:
        path = folder / f"{dataset}.yaml" if folder else None
        return model.load(path) if path and path.is_file() else None

    return find


def _find_for_contract(s: Session, contract: Contract) -> Dataset | None:
    ds = s.scalar(select(Dataset).where(Dataset.key == contract.id))
    if ds is None:
        # a catalogue-only entry made before the contract existed is adopted by the contract
        ds = s.scalar(select(Dataset).where(Dataset.name == contract.ckan_name, Dataset.origin == "catalogue"))
        if ds is not None:
            ds.key, ds.origin, ds.state = contract.id, "contract", "active"
    return ds


def _apply_contract(ds: Dataset, contract: Contract, org: Organization) -> None:
    ds.name = contract.ckan_name
    ds.title, ds.title_en = contract.title, contract.title_en
    ds.notes = contract.description
    ds.domain = contract.domain
    ds.organization = org
    ds.organization_id = org.id
    ds.contract_version = contract.version
    ds.sharing_type = contract.sharing_type.value
    ds.sharing_condition = contract.sharing_condition
    ds.open_type = contract.open_type.value
    ds.update_frequency = contract.update_frequency
    ds.licence = licences.for_contract(contract, _contract_finder(contract)).contract_value
    ds.steward = contract.steward
    ds.tags = contract.tags
    ds.fields = [f.model_dump(mode="json") for f in contract.fields]
    ds.private = contract.open_type.value == "不予开放"


def _apply_resources(s: Session, ds: Dataset, contract: Contract) -> None:
    existing = {r.id: r for r in ds.resources}
    for pos, spec in enumerate(_resources(contract)):
        rid = stable_id("resource", contract.id, str(pos))
        res = existing.get(rid) or Resource(id=rid, dataset=ds, created=utcnow())
        res.position, res.generated = pos, True
        for key, value in spec.items():
            setattr(res, key, value)
        s.add(res)


def register_dataset(s: Session, contract: Contract) -> Dataset:
    """Create or update the dataset's catalogue entry from its contract (idempotent).

    A change is recorded in the activity stream only when the contract changed something.
    """
    org = _organization(s, contract)
    ds = _find_for_contract(s, contract)
    created = ds is None
    if ds is None:
        ds = Dataset(id=stable_id("dataset", contract.id), key=contract.id, origin="contract", created=utcnow())
        ds.tags, ds.fields, ds.related_codes, ds.extras, ds.meta, ds.resources = [], [], [], [], {}, []
        s.add(ds)
    before = None if created else _fingerprint(ds)
    _apply_contract(ds, contract, org)
    _apply_resources(s, ds, contract)
    s.flush()
    contract_groups = _contract_groups(s, contract)
    for group in contract_groups:
        if group not in ds.groups:
            ds.groups.append(group)
    if [g.name for g in contract_groups] != ds.meta.get("contract_groups"):
        ds.meta = {**ds.meta, "contract_groups": [g.name for g in contract_groups]}
    codes = _input_codes(s, contract)
    if codes != ds.meta.get("input_codes", []):
        ds.meta = {**ds.meta, "input_codes": codes}
    profile.assign_code(s, ds)
    after = _fingerprint(ds)
    if created or before != after:
        ds.modified = utcnow()
        changed = [] if before is None else sorted(k for k in after if before.get(k) != after[k])
        message = f"registered from contract {contract.id} {contract.version}"
        if changed:
            message = f"contract {contract.id} {contract.version} changed: {', '.join(changed)}"
        activity.record(s, ds, activity.NEW if created else activity.CHANGED, message, contract=contract.version)
    ds.search_text = search_text(ds)
    s.flush()
    return ds


def refresh(s: Session, ds: Dataset) -> None:
    """After any change: keep the search text and the modification time current."""
    ds.modified = utcnow()
    s.flush()
    ds.search_text = search_text(ds)


LOADED = (joinedload(Dataset.organization), selectinload(Dataset.versions))
"""What a read of a dataset's data uses besides its row: its department and its versions."""


def active_dataset(s: Session, key: str) -> Dataset | None:
    """The active dataset whose contract id is ``key`` (the name analysts' SQL reads), or None."""
    query = select(Dataset).options(*LOADED).where(Dataset.key == key, Dataset.state == "active")
    return cache.lookup(s, ("active", key), lambda o: o.scalar(query))


def dataset(s: Session, ref: str) -> Dataset:
    """Find a dataset by id, CKAN name or contract id (``population.residents``)."""

    def load(o: Session) -> Dataset | None:  # the statement is built only on a miss
        return o.scalar(
            select(Dataset).options(*LOADED).where((Dataset.id == ref) | (Dataset.name == ref) | (Dataset.key == ref))
        )

    ds = cache.lookup(s, ("dataset", ref), load)
    if ds is None or ds.state == "deleted":
        raise NotFound(f"dataset {ref!r} not found")
    return ds


def version_number(s: Session, contract: Contract, snapshot_id: int) -> int:
    """The number the version of ``snapshot_id`` has, or will have when recorded next."""
    ds = register_dataset(s, contract)
    found = s.scalar(select(Version.number).where(Version.dataset_id == ds.id, Version.snapshot_id == snapshot_id))
    if found is not None:
        return found
    return (s.scalar(select(func.max(Version.number)).where(Version.dataset_id == ds.id)) or 0) + 1


def record_version(
    s: Session,
    contract: Contract,
    *,
    snapshot_id: int,
    row_count: int,
    rows_rejected: int,
    source_file: str,
    source_sha256: str,
    quality: dict[str, Any],
    published_at: dt.datetime | None = None,
    lineage: dict[str, Any] | None = None,
) -> Version:
    """Add the version for an Iceberg snapshot; returns the existing one on a rerun.

    ``lineage`` adds to the source file and its hash, e.g. ``{"inputs": {dataset: snapshot_id}}``
    for a derived dataset built from the named input versions.
    """
    ds = register_dataset(s, contract)
    found = s.scalar(select(Version).where(Version.dataset_id == ds.id, Version.snapshot_id == snapshot_id))
    if found is not None:
        return found
    number = (s.scalar(select(func.max(Version.number)).where(Version.dataset_id == ds.id)) or 0) + 1
    ledger = file_seen(s, contract.id, source_sha256)
    submitted_by = (ledger.submitted_by if ledger else None) or PIPELINE
    version = Version(
        id=stable_id("version", contract.id, str(snapshot_id)),
        dataset=ds,
        number=number,
        snapshot_id=snapshot_id,
        row_count=row_count,
        rows_rejected=rows_rejected,
        source_file=source_file,
        source_sha256=source_sha256,
        quality=quality,
        lineage={
            "source_file": source_file,
            "source_sha256": source_sha256,
            "submitted_by": submitted_by,
            **(lineage or {}),
        },
        published_at=published_at or utcnow(),
    )
    s.add(version)
    ds.modified = utcnow()
    s.flush()
    message = (
        f"version {number} published: {row_count} rows ({rows_rejected} rejected) from {source_file}, "
        f"submitted by {submitted_by}"
    )
    activity.record(
        s, ds, activity.CHANGED, message, version=number, snapshot_id=str(snapshot_id), submitted_by=submitted_by
    )
    return version


def file_seen(s: Session, dataset_key: str, sha256: str) -> IngestedFile | None:
    return s.scalar(select(IngestedFile).where(IngestedFile.dataset_key == dataset_key, IngestedFile.sha256 == sha256))


def record_file(s: Session, dataset_key: str, sha256: str, **values: Any) -> IngestedFile:
    row = file_seen(s, dataset_key, sha256) or IngestedFile(dataset_key=dataset_key, sha256=sha256)
    for key, value in values.items():
        setattr(row, key, value)
    s.add(row)
    s.flush()
    return row


def files(s: Session, dataset_key: str | None = None) -> list[IngestedFile]:
    q = select(IngestedFile).order_by(IngestedFile.received_at)
    if dataset_key:
        q = q.where(IngestedFile.dataset_key == dataset_key)
    return list(s.scalars(q))
