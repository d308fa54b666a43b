"""Typed views of the dicts CKAN clients send (package, resource, organization, group).

CKAN clients send back what they were shown: a ``package_show`` result carries computed keys
(``num_tags``, ``versions``, ``metadata_modified`` …), which are ignored here. The national
catalogue elements may arrive as typed top-level keys (from another hub) or as string
``extras`` (from a plain CKAN); both end up in the same typed fields.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from catalog.ckan import DERIVED_EXTRAS, TYPED_EXTRAS
from catalog.errors import ValidationFailed
from contracts.model import LOGICAL_TYPES, Classification, OpenType, SharingType
from hub import paths

NAME = re.compile(r"^[a-z0-9_-]{2,100}$")
TAG = re.compile(r"^[\w .-]{1,100}$")


def _name(value: str) -> str:
    if not NAME.match(value):
        raise ValueError("Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_ (2–100)")
    return value


class Extra(BaseModel):
    key: str
    value: Any = ""

    @field_validator("value", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        if value is None or isinstance(value, str):
            return value or ""
        return json.dumps(value, ensure_ascii=False, sort_keys=True)


class Ref(BaseModel):
    """A reference to a group or organization by id or name."""

    id: str | None = None
    name: str | None = None

    @property
    def ref(self) -> str:
        return self.id or self.name or ""


class FieldIn(BaseModel):
    """One 信息项 of a catalogue-only dataset."""

    model_config = ConfigDict(extra="ignore")
    name: str
    title: str | None = None
    type: str = "string"
    classification: Classification = Classification.internal
    primary_key: bool = False
    description: str | None = None

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value not in LOGICAL_TYPES:
            raise ValueError(f"type must be one of {', '.join(LOGICAL_TYPES)}")
        return value


RESOURCE_COMPUTED = frozenset(
    "package_id position created last_modified metadata_modified state generated datastore_active upload "
    "upload_status note".split()
)


def _server_id(value: Any) -> str | None:
    """Ids are the hub's to make; one a caller supplies must be a canonical UUID (it names folders)."""
    if value is None or value == "":
        return None
    try:
        return paths.canonical_id(value)
    except paths.UnsafePath as exc:
        raise ValueError(exc.detail) from None


ServerId = Annotated[str | None, BeforeValidator(_server_id)]


class ResourceIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: ServerId = None
    package_id: str | None = None
    name: str | None = None
    url: str | None = ""
    format: str | None = ""
    description: str | None = ""

    def free_fields(self) -> dict[str, Any]:
        """Fields CKAN keeps on a resource beyond the core ones (url_type, mimetype, …)."""
        extra = self.model_extra or {}
        return {k: v for k, v in extra.items() if k not in RESOURCE_COMPUTED and isinstance(v, str | int | float)}


class PackageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: ServerId = None
    name: str | None = None
    title: str | None = None
    title_en: str | None = None
    notes: str | None = None
    owner_org: str | None = None
    private: bool | None = None
    state: str | None = None
    version: str | None = Field(default=None, max_length=30)
    url: str | None = None
    author: str | None = None
    author_email: str | None = None
    maintainer: str | None = None
    maintainer_email: str | None = None
    license_id: str | None = None
    license_title: str | None = None
    tags: list[Ref] | None = None
    tag_string: str | None = None
    groups: list[Ref] | None = None
    resources: list[ResourceIn] | None = None
    extras: list[Extra] | None = None
    fields: list[FieldIn] | None = None
    domain: str | None = None
    resource_code: str | None = Field(default=None, max_length=40)
    sharing_type: SharingType | None = None
    sharing_condition: str | None = None
    sharing_method: list[str] | None = None
    open_type: OpenType | None = None
    update_frequency: str | None = Field(default=None, max_length=30)
    release_date: dt.date | None = None
    related_resource_codes: list[str] | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str | None) -> str | None:
        return None if value is None else _name(value)

    def tag_names(self) -> list[str] | None:
        if self.tags is not None:
            names = [t.name or "" for t in self.tags]
        elif self.tag_string is not None:
            names = [t.strip() for t in self.tag_string.split(",") if t.strip()]
        else:
            return None
        bad = [n for n in names if not TAG.match(n)]
        if bad:
            raise ValidationFailed({"tags": [f"Tag {bad[0]!r} must be 1–100 letters, digits, spaces or -_."]})
        return list(dict.fromkeys(names))

    def free_extras(self) -> list[dict[str, str]]:
        skip = TYPED_EXTRAS | DERIVED_EXTRAS
        return [{"key": e.key, "value": e.value} for e in self.extras or [] if e.key not in skip]


def _lift_extras(data: dict[str, Any]) -> dict[str, Any]:
    """Typed catalogue elements sent as extras become top-level keys (top-level wins)."""
    out = dict(data)
    extras = data.get("extras") or []
    if not isinstance(extras, list):
        return out
    keys = [str(e.get("key")) for e in extras if isinstance(e, dict)]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ValidationFailed({"extras": [f"Duplicate key {dupes[0]!r}"]})
    for item in extras:
        key, value = item.get("key"), item.get("value")
        if key in TYPED_EXTRAS and out.get(key) in (None, "", []) and value not in (None, ""):
            out[key] = _decode(key, value)
    return out


def _decode(key: str, value: Any) -> Any:
    if key in ("sharing_method", "related_resource_codes", "information_items") and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return [v.strip() for v in value.split(",") if v.strip()]
    return value


def _fields_from_items(data: dict[str, Any]) -> dict[str, Any]:
    """``information_items`` (from another hub) stand in for ``fields`` when those are absent."""
    if data.get("fields") is None and isinstance(data.get("information_items"), list):
        return {**data, "fields": data["information_items"]}
    return data


def _errors(exc: ValidationError) -> ValidationFailed:
    errors: dict[str, list[str]] = {}
    for err in exc.errors():
        key = str(err["loc"][0]) if err["loc"] else "input"
        errors.setdefault(key, []).append(err["msg"].removeprefix("Value error, "))
    return ValidationFailed(errors)


def package(data: dict[str, Any]) -> PackageIn:
    try:
        return PackageIn.model_validate(_fields_from_items(_lift_extras(data)))
    except ValidationError as exc:
        raise _errors(exc) from None


def resource(data: dict[str, Any]) -> ResourceIn:
    try:
        return ResourceIn.model_validate({k: v for k, v in data.items() if k != "upload"})
    except ValidationError as exc:
        raise _errors(exc) from None


class GroupIn(BaseModel):
    """An organization (department) or a group (theme)."""

    model_config = ConfigDict(extra="ignore")
    id: str | None = None
    name: str
    title: str | None = None
    title_en: str | None = None
    description: str | None = ""
    department_code: str | None = Field(default=None, max_length=32)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        return _name(value)


def group(data: dict[str, Any]) -> GroupIn:
    try:
        return GroupIn.model_validate(data)
    except ValidationError as exc:
        raise _errors(exc) from None
