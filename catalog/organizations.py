"""Departments (CKAN organizations) and groups (domains and themes) changed through CKAN actions.

Stewards only. A department's name and code come from the contracts of its datasets while it has
any; a domain group keeps its domain's name.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import inputs, permissions, service
from catalog.errors import invalid
from catalog.models import ApiClient, Group, Organization, utcnow


def create_organization(s: Session, data: dict[str, Any], caller: ApiClient | None) -> Organization:
    permissions.require_steward(caller, "create organizations")
    spec = inputs.group(data)
    code = spec.department_code or spec.name[:32]
    clash = s.scalar(select(Organization).where((Organization.name == spec.name) | (Organization.code == code)))
    if clash is not None:
        field = "name" if clash.name == spec.name else "department_code"
        raise invalid(field, "Group name already exists in database" if field == "name" else "Code already in use")
    free = spec.id and s.get(Organization, spec.id) is None
    org = Organization(id=spec.id if free else str(uuid.uuid4()), name=spec.name, code=code, created=utcnow())
    org.title, org.title_en, org.description = spec.title or spec.name, spec.title_en, spec.description or ""
    s.add(org)
    s.flush()
    return org


def update_organization(s: Session, org: Organization, data: dict[str, Any], caller: ApiClient | None) -> Organization:
    permissions.require_steward(caller, "update organizations")
    spec = inputs.group({"name": org.name, **data})
    if spec.name != org.name:
        if s.scalar(select(Organization).where(Organization.name == spec.name)) is not None:
            raise invalid("name", "Group name already exists in database")
        org.name = spec.name
    if spec.title and spec.title != org.title and any(d.from_contract for d in org.datasets):
        raise invalid("title", "the department's name comes from the contracts of its datasets")
    org.title = spec.title or org.title
    org.title_en = spec.title_en if "title_en" in data else org.title_en
    org.description = spec.description or ""
    if spec.department_code and spec.department_code != org.code:
        if any(d.from_contract for d in org.datasets):
            raise invalid("department_code", "the department code comes from the contracts of its datasets")
        org.code = spec.department_code
    for ds in org.datasets:
        service.refresh(s, ds)
    s.flush()
    return org


def create_group(s: Session, data: dict[str, Any], caller: ApiClient | None) -> Group:
    permissions.require_steward(caller, "create groups")
    spec = inputs.group(data)
    if s.scalar(select(Group).where(Group.name == spec.name)) is not None:
        raise invalid("name", "Group name already exists in database")
    free = spec.id and s.get(Group, spec.id) is None
    group = Group(id=spec.id if free else str(uuid.uuid4()), name=spec.name, kind="theme", created=utcnow())
    group.title, group.title_en, group.description = spec.title or spec.name, spec.title_en, spec.description or ""
    s.add(group)
    s.flush()
    return group


def update_group(s: Session, group: Group, data: dict[str, Any], caller: ApiClient | None) -> Group:
    permissions.require_steward(caller, "update groups")
    spec = inputs.group({"name": group.name, **data})
    if spec.name != group.name:
        if group.kind == "domain":
            raise invalid("name", "a domain group keeps the name of its domain")
        if s.scalar(select(Group).where(Group.name == spec.name)) is not None:
            raise invalid("name", "Group name already exists in database")
        group.name = spec.name
    group.title = spec.title or group.title
    group.title_en = spec.title_en if "title_en" in data else group.title_en
    group.description = spec.description or ""
    s.flush()
    return group
