"""The OpenAPI document and the documentation pages that show it, served without a CDN.

``/docs`` (Swagger UI) and ``/redoc`` load their scripts and styles from the hub itself
(``/assets/docs/…``, the files of the ``fastapi-offline`` package), so they work on a network
with no way out. Each page carries its own Content-Security-Policy: scripts only from the hub
plus the page's one inline start-up script, allowed by its SHA-256 hash, never 'unsafe-inline'.

The document says how a key is sent (the ``ApiKey`` and ``Bearer`` schemes of
:mod:`exchange_api.deps`; optional on routes that anonymous callers may use too) and every
error status a route answers, in the route's own shape: CKAN's envelope on the action routes,
``{"error": {code, message, request_id}}`` everywhere else.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any, Literal

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.dependencies.utils import get_flat_dependant
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.staticfiles import StaticFiles

from exchange_api.ckan_actions import ACTIONS
from exchange_api.deps import require_client

ASSETS = Path(fastapi_offline.__file__).parent / "static"
"""swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js and favicon.png."""
ASSETS_URL = "/assets/docs"
CKAN_PREFIXES = ("/api/3/action/", "/api/action/")
SCHEMES = ("ApiKey", "Bearer")


class ErrorDetail(BaseModel):
    code: str = Field(
        description="bad_request, not_authorized, forbidden, not_found, conflict, version_gone, too_large"
    )
    message: str
    request_id: str | None = Field(description="The X-Request-ID of the answer.")


class ErrorOut(BaseModel):
    """The exchange API's error: ``/api/v1``, DCAT and file downloads."""

    error: ErrorDetail


class CkanErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    type: str = Field(alias="__type", description="Not Found Error, Authorization Error, Validation Error, …")
    message: str | None = Field(None, description="Absent on a Validation Error, which names the fields instead.")


class CkanSuccess(BaseModel):
    """CKAN's answer: the action's result in an envelope."""

    help: str
    success: Literal[True]
    result: Any


class CkanFailure(BaseModel):
    """CKAN's error envelope (an unknown action name is answered with a bare JSON string)."""

    help: str
    success: Literal[False]
    error: CkanErrorDetail


EXCHANGE_ERRORS: dict[int, str] = {
    400: "Bad request: a parameter, cursor or body that is not valid",
    401: "No key, or a key that is unknown, revoked or expired",
    403: "The key's client may not do this (a role, a grant or the dataset's sharing type)",
    404: "No such dataset, version, resource, grant or request",
    409: "The object is not in a state that allows this",
    410: "The dataset version asked for is no longer served",
    413: "The request body is over its limit",
    429: "Over the client's rate limit (requests per minute or rows per day); see Retry-After",
}
CKAN_ERRORS: dict[int, str] = {
    400: "Bad request: unknown action, GET for a write action, malformed JSON or form, search query error",
    403: "Authorization Error: no key where one is needed, an unknown, revoked or expired key, or not allowed",
    404: "Not Found Error",
    409: "Validation Error, naming the parameters",
    413: "Request Entity Too Large: body, upload or quota over its limit",
    429: "Rate Limit Error: over the client's requests per minute; see Retry-After",
}


def error_code(status: int) -> str:
    """The ``code`` of an exchange error with this HTTP status."""
    codes = {400: "bad_request", 401: "not_authorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    codes |= {409: "conflict", 410: "version_gone", 413: "too_large", 429: "rate_limited"}
    return codes.get(status, "http_error")


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _error_responses(path: str) -> dict[str, dict[str, Any]]:
    if path.startswith(CKAN_PREFIXES):
        schema: dict[str, Any] = {"anyOf": [_ref(CkanFailure), {"type": "string"}]}
        table = CKAN_ERRORS
    else:
        schema, table = _ref(ErrorOut), EXCHANGE_ERRORS
    return {
        str(code): {"description": text, "content": {"application/json": {"schema": schema}}}
        for code, text in table.items()
    }


def _key_required(route: APIRoute) -> bool:
    return any(dep.call is require_client for dep in get_flat_dependant(route.dependant).dependencies)


def describe(schema: dict[str, Any], routes: list[APIRoute]) -> dict[str, Any]:
    """Complete FastAPI's document: error statuses, optional keys, the CKAN action names."""
    components = schema.setdefault("components", {})
    models = components.setdefault("schemas", {})
    for model in (ErrorOut, CkanSuccess, CkanFailure):
        found = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
        models.update(found.pop("$defs", {}))
        models[model.__name__] = found
    for name in ("HTTPValidationError", "ValidationError"):  # invalid requests are answered 400, never 422
        models.pop(name, None)
    required = {(r.path_format, m.lower()) for r in routes for m in r.methods if _key_required(r)}
    for path, operations in schema.get("paths", {}).items():
        for method, op in operations.items():
            responses = op.setdefault("responses", {})
            responses.pop("422", None)
            _any_json(path, responses)
            for code, answer in _error_responses(path).items():
                responses.setdefault(code, answer)
            if path.startswith(CKAN_PREFIXES):
                op["security"] = [{s: []} for s in SCHEMES] + [{}]
                _name_actions(op, read_only=method == "get")
            elif op.get("security") and (path, method) not in required:
                op["security"] = [*op["security"], {}]  # the key is optional here
    return schema


def _any_json(path: str, responses: dict[str, Any]) -> None:
    """The hub answers with its own orjson response class, which FastAPI documents as a JSON
    string; a success is any JSON value (CKAN: the envelope around the result)."""
    for code, answer in responses.items():
        content = answer.get("content", {}).get("application/json")
        if code.startswith("2") and content is not None and content.get("schema") == {"type": "string"}:
            content["schema"] = _ref(CkanSuccess) if path.startswith(CKAN_PREFIXES) else {}


def _name_actions(op: dict[str, Any], *, read_only: bool) -> None:
    names = sorted(n for n, a in ACTIONS.items() if a.read_only or not read_only)
    for param in op.get("parameters", []):
        if param.get("in") == "path" and param.get("name") == "name":
            param["schema"] = {"type": "string", "enum": names, "title": "Name"}
            param["description"] = "The action; GET runs read actions only, POST any action."


class HubAPI(FastAPI):
    """FastAPI with the hub's complete OpenAPI document."""

    def openapi(self) -> dict[str, Any]:
        if not self.openapi_schema:
            routes = [r for r in self.routes if isinstance(r, APIRoute)]
            self.openapi_schema = describe(super().openapi(), routes)
        return self.openapi_schema


INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.S)


def _page(html: str, *, extra_styles: bool = False) -> HTMLResponse:
    """The page with a CSP that allows its own inline script and style by hash, nothing inline else."""
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for kind, body in INLINE.findall(html):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes[kind].append(f"'sha256-{digest}'")
    # ReDoc styles itself by inserting <style> elements at run time, which no hash can name
    styles = ["'self'", "'unsafe-inline'"] if extra_styles else ["'self'", *hashes["style"]]
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(["'self'", *hashes["script"]]),
            "style-src " + " ".join(styles),
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` from the installed assets (create the app with
    ``docs_url=None, redoc_url=None``)."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    def urls(request: Request) -> tuple[str, str]:
        root = request.scope.get("root_path", "").rstrip("/")
        return root + (app.openapi_url or "/openapi.json"), root + ASSETS_URL

    @app.get("/docs", include_in_schema=False)
    def swagger(request: Request) -> HTMLResponse:
        spec, assets = urls(request)
        page = get_swagger_ui_html(
            openapi_url=spec,
            title=f"{app.title} — API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
        )
        return _page(bytes(page.body).decode())

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        spec, assets = urls(request)
        page = get_redoc_html(
            openapi_url=spec,
            title=f"{app.title} — API",
            redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png",
            with_google_fonts=False,
        )
        return _page(bytes(page.body).decode(), extra_styles=True)
