"""OAuth2 client credentials: a client trades one of its API keys for a short-lived JWT.

``POST /oauth/token`` with ``grant_type=client_credentials``, ``client_id`` (the client's name)
and ``client_secret`` (one of its live API keys), in the form body or as HTTP Basic, answers
``{"access_token", "token_type": "Bearer", "expires_in"}``. The token is an HS256 JWT signed by
the hub (PyJWT) with a key kept outside the database (``HUB_HOME/token.key``, 0600); it names
the client (``sub``) and the API key it was issued against (``jti``), so revoking or expiring
that key ends its tokens at once. API keys keep working everywhere; a token is accepted wherever
a key is (``Authorization: Bearer <token>``).
"""

from __future__ import annotations

import datetime as dt

import jwt
from sqlalchemy.orm import Session

from access import secretfile
from catalog import clients
from catalog.models import ApiKey, aware, utcnow
from hub.errors import NotAuthorized
from hub.settings import Settings

ALGORITHM = "HS256"
ISSUER = "dongcheng-base-data-hub"
LIFETIME = dt.timedelta(minutes=15)


def signing_key(settings: Settings) -> bytes:
    return secretfile.load(settings.resolved_home / "token.key")


def looks_like_token(presented: str) -> bool:
    return not presented.startswith(clients.KEY_PREFIX) and presented.count(".") == 2


def issue(s: Session, settings: Settings, client_id: str, client_secret: str) -> tuple[str, int]:
    """A token for the client named ``client_id`` whose live key is ``client_secret``."""
    try:
        key = clients.authenticate_key(s, client_secret)
    except NotAuthorized:
        raise NotAuthorized("invalid_client: unknown client or secret") from None
    if key.client.name != client_id:
        raise NotAuthorized("invalid_client: unknown client or secret")
    now = utcnow()
    until = now + LIFETIME
    if key.expires_at is not None:
        until = min(until, aware(key.expires_at))
    claims = {"iss": ISSUER, "sub": key.client.id, "jti": key.id, "iat": now, "exp": until}
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM), int((until - now).total_seconds())


def authenticate(s: Session, settings: Settings, token: str) -> ApiKey:
    """The live API key a token was issued against (NotAuthorized when the token or the key is not good)."""
    try:
        claims = jwt.decode(
            token,
            signing_key(settings),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "jti", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise NotAuthorized("access token expired; ask /oauth/token for a new one") from None
    except jwt.PyJWTError:
        raise NotAuthorized(clients.UNKNOWN_KEY) from None
    key = s.get(ApiKey, str(claims["jti"]))
    live = clients.check_live(key)
    if live.client_id != claims["sub"]:
        raise NotAuthorized(clients.UNKNOWN_KEY)
    return live


def credential(s: Session, settings: Settings, presented: str) -> ApiKey:
    """The live key behind what a caller presented: an API key, or a token issued against one."""
    if looks_like_token(presented):
        return authenticate(s, settings, presented)
    return clients.authenticate_key(s, presented)
