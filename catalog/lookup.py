"""Find catalogue objects by any of the names CKAN clients use for them (id, name, code)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from catalog.models import ApiClient, Group, Organization, Resource
from hub.errors import NotFound


def organization(s: Session, ref: str) -> Organization:
    """By id, CKAN name, department code or title."""
    found = s.scalar(
        select(Organization).where(
            or_(
                Organization.id == ref,
                Organization.name == ref,
                Organization.code == ref,
                Organization.title == ref,
            )
        )
    )
    if found is None:
        raise NotFound(f"Organization not found: {ref}")
    return found


def group(s: Session, ref: str) -> Group:
    found = s.scalar(select(Group).where(or_(Group.id == ref, Group.name == ref)))
    if found is None:
        raise NotFound(f"Group not found: {ref}")
    return found


def resource(s: Session, ref: str) -> Resource:
    found = s.get(Resource, ref)
    if found is None or found.dataset.state != "active":
        raise NotFound(f"Resource not found: {ref}")
    return found


def user(s: Session, ref: str) -> ApiClient:
    found = s.scalar(select(ApiClient).where(or_(ApiClient.id == ref, ApiClient.name == ref)))
    if found is None:
        raise NotFound(f"User not found: {ref}")
    return found
