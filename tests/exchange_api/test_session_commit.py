"""A route's catalogue writes are committed before its answer starts to leave.

FastAPI ends a dependency with ``yield`` after the response has been sent unless it is declared
with ``scope="function"``; the session's commit would then race the caller's next request (a
revoked grant still readable) and a failed commit would follow a 200. One dependency,
``exchange_api.deps.SESSION``, carries the scope; the first test holds every route to it, the
second watches a real revocation from another connection at the moment the answer starts."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import create_engine, text

from access import grants
from catalog import clients, db
from contracts import model
from exchange_api.app import create_app
from exchange_api.deps import get_session
from hub.settings import Settings


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependants(sub)


def test_every_route_commits_its_session_before_answering(settings: Settings) -> None:
    app = create_app(settings)
    found = 0
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        for dep in _dependants(route.dependant):
            if dep.call is get_session:
                assert dep.scope == "function", f"{route.path}: the session must end before the answer is sent"
                found += 1
    assert found > 40  # the data, access, contract, dispute and subscription routes all take one


def test_a_revoked_grant_is_committed_when_the_answer_starts(settings: Settings) -> None:
    db.migrate(settings.db_url)
    contract = model.find(settings.contracts_dir, "population.residents")
    with db.session(settings.db_url) as s:
        app_client = clients.ensure_client(s, "app", role="consumer")
        key = clients.issue_key(s, app_client)
        steward = clients.ensure_client(s, "steward", role="steward")
        grant = grants.create(
            s, app_client, contract, steward, fields=(), purpose="test", expires=dt.date.today() + dt.timedelta(days=9)
        )
        grant_id = grant.id
    seen: list[Any] = []
    outside = create_engine(settings.db_url)

    app = create_app(settings)

    async def watched(scope: Any, receive: Any, send: Any) -> None:
        async def send_and_look(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":  # look from another connection, as the next request would
                with outside.connect() as conn:
                    seen.append(
                        conn.execute(text("SELECT revoked FROM grants WHERE id = :g"), {"g": grant_id}).scalar()
                    )
            await send(message)

        await app(scope, receive, send_and_look)

    async def revoke() -> httpx.Response:
        transport = httpx.ASGITransport(app=watched)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
            return await http.delete(f"/api/v1/grants/{grant_id}", headers={"X-API-Key": key})

    answer = asyncio.run(revoke())
    outside.dispose()
    assert answer.status_code == 200, answer.text
    assert len(seen) == 1 and seen[0] is not None, "the revocation was not committed when the answer started"
