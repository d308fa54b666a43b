"""OAuth2 client credentials: a key buys a short-lived JWT that works wherever a key does, and dies with it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from catalog import clients, db
from tests.catalog.sites import Site, site

RECORDS = "/api/v1/datasets/population-residents/records"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(Path(tmp_path_factory.mktemp("oauth")), rows=20) as s:
        yield s


def _token(hub: Site, **form: str) -> httpx.Response:
    return httpx.post(f"{hub.url}/oauth/token", data=form)


def test_client_credentials_buy_a_bearer_token_accepted_like_a_key(hub: Site) -> None:
    answer = _token(hub, grant_type="client_credentials", client_id="grid-app", client_secret=hub.keys["consumer"])
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 900
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == "dongcheng-base-data-hub" and claims["exp"] - claims["iat"] <= 900
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert httpx.get(hub.url + RECORDS, headers=bearer).status_code == 200
    ckan = httpx.get(f"{hub.url}/api/3/action/package_search", headers=bearer).json()
    assert ckan["success"] is True
    basic = base64.b64encode(f"grid-app:{hub.keys['consumer']}".encode()).decode()
    by_basic = httpx.post(
        f"{hub.url}/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert by_basic.status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "password", "client_id": "grid-app", "client_secret": "x"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, 400, "invalid_request"),
        (
            {"grant_type": "client_credentials", "client_id": "grid-app", "client_secret": "hub_wrong"},
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "steward-wang", "client_secret": "CONSUMER"},
            401,
            "invalid_client",
        ),
    ],
)
def test_bad_requests_answer_as_rfc_6749_says(hub: Site, form: dict, status: int, error: str) -> None:
    form = {k: (hub.keys["consumer"] if v == "CONSUMER" else v) for k, v in form.items()}
    answer = _token(hub, **form)
    assert answer.status_code == status and answer.json()["error"] == error


def test_forged_or_tampered_tokens_are_refused(hub: Site) -> None:
    good = _token(hub, grant_type="client_credentials", client_id="grid-app", client_secret=hub.keys["consumer"])
    claims = jwt.decode(good.json()["access_token"], options={"verify_signature": False})
    for forged in (
        jwt.encode(claims, "not-the-hub's-key", algorithm="HS256"),
        jwt.encode(claims | {"sub": "someone-else"}, "x" * 32, algorithm="HS256"),
        jwt.encode(claims, None, algorithm="none") if "none" in jwt.algorithms.get_default_algorithms() else "a.b.c",
        "a.b.c",
    ):
        answer = httpx.get(hub.url + RECORDS, headers={"Authorization": f"Bearer {forged}"})
        assert answer.status_code == 401, forged


def test_revoking_the_key_ends_its_tokens(hub: Site) -> None:
    with db.session(hub.settings.db_url) as s:
        key = clients.issue_key(s, clients.ensure_client(s, "token-app"))
    token = _token(hub, grant_type="client_credentials", client_id="token-app", client_secret=key).json()[
        "access_token"
    ]
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{hub.url}/api/v1/datasets", headers=bearer).status_code == 200
    with db.session(hub.settings.db_url) as s:
        clients.revoke_keys(s, clients.client(s, "token-app"))
    assert httpx.get(f"{hub.url}/api/v1/datasets", headers=bearer).status_code == 401
