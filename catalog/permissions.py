"""Who may change what in the catalogue. Pure functions of the caller and the object.

- steward: everything.
- publisher: datasets, resources and uploads of its own organization (department).
- analyst, consumer, anonymous: nothing; they read what they may see.
Reading: datasets whose open type is 不予开放 are private, shown to identified callers only.
"""

from __future__ import annotations

from catalog.models import ApiClient, Dataset, Organization
from hub.errors import Forbidden, NotAuthorized


def is_steward(caller: ApiClient | None) -> bool:
    return caller is not None and caller.role == "steward"


def member_of(caller: ApiClient | None, org: Organization) -> bool:
    """A client belongs to a department named by its id, CKAN name, department code or title."""
    if caller is None or not caller.organization:
        return False
    return caller.organization in (org.id, org.name, org.code, org.title)


def can_edit(caller: ApiClient | None, org: Organization) -> bool:
    return is_steward(caller) or (caller is not None and caller.role == "publisher" and member_of(caller, org))


def can_read(caller: ApiClient | None, ds: Dataset) -> bool:
    return ds.state == "active" and (not ds.private or caller is not None)


def require_steward(caller: ApiClient | None, what: str) -> None:
    if not is_steward(caller):
        raise _refused(caller, f"User {_who(caller)} not authorized to {what}: a data steward's key is needed")


def require_edit(caller: ApiClient | None, org: Organization, what: str) -> None:
    if not can_edit(caller, org):
        raise _refused(
            caller, f"User {_who(caller)} not authorized to {what}: needs a steward, or a publisher of {org.title}"
        )


def require_editor(caller: ApiClient | None, what: str) -> None:
    """A steward or a publisher: the roles that change the catalogue at all."""
    if caller is None or caller.role not in ("steward", "publisher"):
        raise _refused(caller, f"User {_who(caller)} not authorized to {what}: needs a steward or a publisher")


def require_key(caller: ApiClient | None, what: str) -> ApiClient:
    if caller is None:
        raise NotAuthorized(f"an API key is required to {what}")
    return caller


def _refused(caller: ApiClient | None, message: str) -> NotAuthorized:
    """401 for an anonymous caller (who are you?), 403 for a known one (not allowed)."""
    return NotAuthorized(message) if caller is None else Forbidden(message)


def _who(caller: ApiClient | None) -> str:
    return caller.name if caller is not None else "(anonymous)"
