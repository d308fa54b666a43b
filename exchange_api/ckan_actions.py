"""The registry of CKAN actions: what an action receives (Context, params) and how it fails.

Action modules (``ckan_read``, ``ckan_write``, ``ckan_datastore``) register functions with
``@action``; ``ckan_api`` dispatches HTTP requests to them. Actions raise the hub's errors
(NotFound, NotAuthorized, InputError), the catalogue's (ValidationFailed, SearchQueryError, SearchError) or
an ActionError; ``to_action_error`` turns each into CKAN's error type and HTTP status.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from catalog import permissions
from catalog.errors import SearchError, SearchQueryError, ValidationFailed
from catalog.models import ApiClient, ApiKey, Dataset
from exchange_api.deps import Contracts
from hub import limits
from hub.errors import HubError, InputError, NotAuthorized, NotFound, RateLimited, TooLarge
from hub.settings import Settings
from warehouse.serving import Store


class ActionError(Exception):
    def __init__(
        self,
        status: int,
        kind: str,
        message: str | None = None,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.status, self.kind, self.message, self.fields = status, kind, message, fields
        self.headers = headers or {}


def validation_error(**fields: list[str]) -> ActionError:
    return ActionError(409, "Validation Error", fields=fields)


def to_action_error(exc: Exception) -> ActionError | None:
    """CKAN's error type and status for an error raised by an action (None: not one of ours)."""
    if isinstance(exc, ActionError):
        return exc
    if isinstance(exc, NotFound):
        return ActionError(404, "Not Found Error", str(exc))
    if isinstance(exc, NotAuthorized):
        return ActionError(403, "Authorization Error", str(exc))
    if isinstance(exc, ValidationFailed):
        return ActionError(409, "Validation Error", fields=exc.errors)
    if isinstance(exc, RateLimited):
        return ActionError(429, "Rate Limit Error", str(exc), headers={"Retry-After": str(exc.retry_after)})
    if isinstance(exc, TooLarge):
        return ActionError(413, "Request Entity Too Large", str(exc))
    if isinstance(exc, SearchError):
        return ActionError(409, "Search Error", f"Search error: {exc}")
    if isinstance(exc, SearchQueryError):
        return ActionError(400, "Search Query Error", f"Search Query Error: {exc}")
    if isinstance(exc, InputError):
        return ActionError(409, "Validation Error", fields={exc.column or exc.rule or "input": [str(exc)]})
    if isinstance(exc, HubError):
        return ActionError(409, "Validation Error", fields={"message": [str(exc)]})
    return None


@dataclass(frozen=True)
class Context:
    session: Session
    settings: Settings
    caller: ApiClient | None
    store: Store
    contracts: Contracts
    key: ApiKey | None = None
    """The key the caller presented (None: anonymous)."""
    request_id: str | None = None

    def visible(self, ds: Dataset) -> bool:
        return permissions.can_read(self.caller, ds)


@dataclass(frozen=True)
class Action:
    fn: Callable[[Context, dict[str, Any]], Any]
    read_only: bool
    doc: str


ACTIONS: dict[str, Action] = {}


def action(name: str, *, read_only: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        ACTIONS[name] = Action(fn, read_only, (fn.__doc__ or "").strip())
        return fn

    return wrap


def required(params: dict[str, Any], key: str) -> Any:
    value = params.get(key)
    if value in (None, ""):
        raise validation_error(**{key: ["Missing value"]})
    return value


def as_bool(value: Any, default: bool = False) -> bool:
    if value in (None, ""):
        return default
    return str(value).lower() in ("true", "1", "yes", "on")


def as_int(params: dict[str, Any], key: str, default: int, *, maximum: int | None = None) -> int:
    """A natural number parameter; above ``maximum`` it is capped (CKAN's behaviour for limits),
    above :data:`hub.limits.MAX_OFFSET` or not a natural number it is a Validation Error."""
    number = limits.bounded_int(params.get(key), key, default)
    return min(number, maximum) if maximum is not None else number


def as_json(value: Any) -> Any:
    """GET and multipart send nested values as JSON strings; JSON bodies send them as they are."""
    if isinstance(value, str) and value[:1] in ("[", "{", '"'):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def visible_dataset(ctx: Context, ref: Any) -> Dataset:
    """A dataset by id, name or contract id that the caller may see (404 unknown, 403 private)."""
    from catalog import service

    try:
        ds = service.dataset(ctx.session, str(ref))
    except NotFound:
        raise ActionError(404, "Not Found Error", "Not found") from None
    if not ctx.visible(ds):
        raise ActionError(403, "Authorization Error", f"User not authorized to read package {ref}")
    return ds


def packages(ctx: Context, datasets: Iterable[Dataset]) -> list[dict[str, Any]]:
    """The package dicts of ``datasets`` as this caller sees them: datasets it may not read are
    never named (not in lineage, not in related resource codes). What is withheld is worked out
    once per call, not once per package."""
    from catalog.ckan import package_dict, without
    from catalog.dcat import withheld_from

    hides = withheld_from(ctx.session, ctx.caller).hides
    return [without(package_dict(ds, ctx.settings.base_url), hides) for ds in datasets]


def package(ctx: Context, ds: Dataset) -> dict[str, Any]:
    return packages(ctx, [ds])[0]
