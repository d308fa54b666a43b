"""Every exchange route checks the caller; a new route without a check fails this test."""

from __future__ import annotations

from fastapi.routing import APIRoute

from exchange_api.app import create_app
from exchange_api.deps import optional_client, require_client
from hub.settings import Settings

PUBLIC = {"/api/3/action/{name}", "/api/action/{name}"}  # CKAN actions authorize per action
OPEN_DATA = {"/api/v1/datasets/{ref}", "/api/v1/datasets/{ref}/records", "/api/v1/datasets/{ref}/export"}
"""Read without a key on datasets open to the public: policy_for refuses an anonymous caller on any
other (tests/access/test_bola_matrix.py::test_anonymous_callers_read_open_datasets_only)."""
METADATA = {"/api/v1/datasets/{ref}/quality"}
"""Counts only, no records: readable by whoever may read the dataset's catalogue entry (a public
dataset's without a key; tests/stewardship/test_quality_history.py)."""


def _dependencies(route: APIRoute) -> set[object]:
    seen: set[object] = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        seen.add(dep.call)
        stack.extend(dep.dependencies)
    return seen


def test_every_exchange_route_requires_a_client(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Settings(home=tmp_path))
    routes = [r for r in app.routes if isinstance(r, APIRoute) and r.path.startswith("/api/")]
    assert routes
    unguarded = [r.path for r in routes if r.path not in PUBLIC and require_client not in _dependencies(r)]
    assert sorted(unguarded) == sorted(OPEN_DATA | METADATA)
    for route in routes:
        if route.path in OPEN_DATA | METADATA:
            assert optional_client in _dependencies(route), "the caller is still identified when a key is sent"
