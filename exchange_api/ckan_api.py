"""CKAN Action API on ``/api/3/action/{name}`` and ``/api/action/{name}``.

Envelope, error types and HTTP codes follow CKAN (see shared/ckan-api.md), so ``ckanapi`` and
CKAN tooling work unchanged. Read actions accept GET and POST; write actions POST only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from catalog import clients, db, service
from catalog.ckan import organization_dict, package_dict
from catalog.models import ApiClient, Dataset, Organization
from exchange_api.deps import presented_key
from exchange_api.responses import JSONResponse
from hub.errors import NotAuthorized, NotFound
from hub.settings import Settings

router = APIRouter(tags=["ckan"])
CKAN_VERSION = "2.11.0"


class ActionError(Exception):
    def __init__(self, status: int, kind: str, message: str | None = None, fields: dict[str, list[str]] | None = None):
        self.status, self.kind, self.message, self.fields = status, kind, message, fields


def validation_error(**fields: list[str]) -> ActionError:
    return ActionError(409, "Validation Error", fields=fields)


@dataclass(frozen=True)
class Context:
    session: Session
    settings: Settings
    caller: ApiClient | None

    def visible(self, ds: Dataset) -> bool:
        return ds.state == "active" and (not ds.private or self.caller is not None)


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


def _required(params: dict[str, Any], key: str) -> Any:
    value = params.get(key)
    if value in (None, ""):
        raise validation_error(**{key: ["Missing value"]})
    return value


def _bool(value: Any) -> bool:
    return str(value).lower() in ("true", "1", "yes", "on")


@action("site_read")
def site_read(ctx: Context, params: dict[str, Any]) -> bool:
    """Whether the site can be read: always true."""
    return True


@action("status_show")
def status_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Site title, URL, CKAN API version emulated and extensions."""
    return {
        "site_title": ctx.settings.site_title,
        "site_description": "东城区人口、法人、经济、建筑、空间基础数据的共享交换平台",
        "site_url": ctx.settings.base_url,
        "ckan_version": CKAN_VERSION,
        "locale_default": "zh_Hans_CN",
        "extensions": ["hub"],
    }


@action("help_show")
def help_show(ctx: Context, params: dict[str, Any]) -> str:
    """The documentation of an action: ``name``."""
    name = _required(params, "name")
    if name not in ACTIONS:
        raise ActionError(404, "Not Found Error", f"Action not found: {name}")
    return ACTIONS[name].doc


@action("package_list")
def package_list(ctx: Context, params: dict[str, Any]) -> list[str]:
    """Names of the datasets the caller can see; ``limit`` and ``offset`` page through them."""
    rows = [d for d in ctx.session.scalars(select(Dataset).order_by(Dataset.name)) if ctx.visible(d)]
    offset = int(params.get("offset") or 0)
    limit = int(params["limit"]) if params.get("limit") else None
    names = [d.name for d in rows][offset:]
    return names[:limit] if limit is not None else names


@action("package_show")
def package_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """One dataset by ``id`` or ``name`` (the contract id, e.g. population.residents, works too)."""
    ref = _required(params, "id")
    try:
        ds = service.dataset(ctx.session, str(ref))
    except NotFound:
        raise ActionError(404, "Not Found Error", "Not found") from None
    if not ctx.visible(ds):
        raise ActionError(403, "Authorization Error", f"User not authorized to read package {ds.name}")
    return package_dict(ds, ctx.settings.base_url)


@action("organization_list")
def organization_list(ctx: Context, params: dict[str, Any]) -> list[Any]:
    """Departments; ``all_fields=true`` returns dictionaries with package counts."""
    orgs = list(ctx.session.scalars(select(Organization).order_by(Organization.name)))
    if not _bool(params.get("all_fields", False)):
        return [o.name for o in orgs]
    counts = dict(
        ctx.session.execute(
            select(Dataset.organization_id, func.count())
            .where(Dataset.state == "active")
            .group_by(Dataset.organization_id)
        ).all()
    )
    return [organization_dict(o, package_count=counts.get(o.id, 0)) for o in orgs]


def _envelope(request: Request, name: str, **body: Any) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {"help": f"{base}/api/3/action/help_show?name={name}", **body}


async def _params(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query_params)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data") or ctype.startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        return {k: v for k, v in form.items()}
    raw = await request.body()
    if not raw.strip():
        return {}
    import orjson

    data = orjson.loads(raw)
    if not isinstance(data, dict):
        raise ActionError(400, "Bad Request", "Bad request - JSON Error: Request data JSON decoded to a non-dict")
    return data


def _run(name: str, act: Action, request: Request, params: dict[str, Any], key: str | None) -> Any:
    settings: Settings = request.app.state.settings
    with db.session(settings.db_url) as session:
        caller = None
        if key is not None:
            try:
                caller = clients.authenticate(session, key)
            except NotAuthorized as exc:
                raise ActionError(403, "Authorization Error", str(exc)) from None
        return act.fn(Context(session, settings, caller), params)


async def _dispatch(name: str, request: Request) -> JSONResponse:
    act = ACTIONS.get(name)
    if act is None:
        return JSONResponse(f"Bad request: Action name not known: {name}", status_code=400)
    try:
        if request.method == "GET" and not act.read_only:
            raise ActionError(400, "Bad Request", f"Bad request: Action {name} requires POST: Please use POST method")
        try:
            params = await _params(request)
        except ValueError:
            raise ActionError(400, "Bad Request", "Bad request - JSON Error: could not decode request body") from None
        result = await run_in_threadpool(_run, name, act, request, params, presented_key(request))
    except ActionError as exc:
        error: dict[str, Any] = {"__type": exc.kind}
        if exc.fields:
            error |= exc.fields
        else:
            error["message"] = exc.message
        return JSONResponse(_envelope(request, name, success=False, error=error), status_code=exc.status)
    return JSONResponse(_envelope(request, name, success=True, result=result))


async def ckan_action(name: str, request: Request) -> JSONResponse:
    """Any CKAN action: the envelope is ``{help, success, result}`` or ``{help, success, error}``."""
    return await _dispatch(name, request)


for _path, _visible in (("/api/3/action/{name}", True), ("/api/action/{name}", False)):
    for _method in ("GET", "POST"):
        router.add_api_route(
            _path,
            ckan_action,
            methods=[_method],
            include_in_schema=_visible,
            summary=f"CKAN action ({_method})",
            operation_id=f"ckan_action_{_method.lower()}" if _visible else None,
        )
