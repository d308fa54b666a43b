"""``POST /oauth/token``: OAuth2 client credentials (RFC 6749 §4.4), answered as the RFC says."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session

from access import tokens
from exchange_api.deps import SESSION, get_settings
from exchange_api.responses import JSONResponse
from hub.errors import NotAuthorized
from hub.settings import Settings

router = APIRouter(tags=["access"])


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="hub"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


def _basic(request: Request) -> tuple[str, str] | None:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("basic "):
        return None
    try:
        user, _, secret = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return unquote(user), unquote(secret)


@router.post(
    "/oauth/token",
    summary="OAuth2 client credentials: trade a client's API key for a 15-minute access token",
    responses={
        400: {"description": "invalid_request / unsupported_grant_type"},
        401: {"description": "invalid_client"},
    },
)
def token(
    request: Request,
    grant_type: str = Form(..., description="client_credentials"),
    client_id: str | None = Form(None, description="The client's name (or send HTTP Basic)."),
    client_secret: str | None = Form(None, description="One of the client's live API keys."),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> JSONResponse:
    """Send the token as ``Authorization: Bearer <token>`` wherever an API key is accepted."""
    if grant_type != "client_credentials":
        return _oauth_error("unsupported_grant_type", "only client_credentials is offered")
    basic = _basic(request)
    cid, secret = basic if basic else (client_id, client_secret)
    if not cid or not secret:
        return _oauth_error("invalid_request", "send client_id and client_secret (form fields or HTTP Basic)")
    try:
        access, seconds = tokens.issue(s, settings, cid, secret)
    except NotAuthorized:
        return _oauth_error("invalid_client", "unknown client or secret", 401)
    body = {"access_token": access, "token_type": "Bearer", "expires_in": seconds}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
