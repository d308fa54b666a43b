"""Rate limits: 429 with Retry-After past requests/minute or rows/day, in memory and in the real Redis."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from catalog import clients, db
from hub.settings import Settings
from tests.conftest import LiveServer
from tests.published import grant, publish_export

REDIS = "redis://127.0.0.1:6379/0"
RECORDS = "/api/v1/datasets/population-residents/records"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(home=Path(tmp_path_factory.mktemp("rates")) / "hub")
    settings.ensure_dirs()
    publish_export(settings, "v1.csv", rows=40, bad_share=0.0, seed=4)
    return settings


def _key(settings: Settings, name: str, **limits: int) -> str:
    with db.session(settings.db_url) as s:
        client = clients.ensure_client(s, name)
        for k, v in limits.items():
            setattr(client, k, v)
        return clients.issue_key(s, client)


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.skipif(not _redis_up(), reason="no Redis"))])
def store(request: pytest.FixtureRequest) -> Iterator[str | None]:
    yield None if request.param == "memory" else REDIS


def test_requests_per_minute_answer_429_with_retry_after(published: Settings, store: str | None) -> None:
    settings = published.model_copy(update={"redis_url": store, "rate_requests_per_minute": 5})
    key = _key(settings, f"busy-app-{store is None}")
    with LiveServer(settings) as server, httpx.Client(base_url=server.url, headers={"X-API-Key": key}) as http:
        answers = [http.get("/api/3/action/package_search") for _ in range(7)]
    assert [a.status_code for a in answers[:5]] == [200] * 5
    late = answers[5]
    assert late.status_code == 429 and late.json()["error"]["__type"] == "Rate Limit Error"
    assert 1 <= int(late.headers["Retry-After"]) <= 60


def test_calls_without_a_key_are_charged_to_their_address(published: Settings, store: str | None) -> None:
    """Open data and the catalogue answer without a key; each address has its own minute's budget,
    on the exchange API and on the CKAN actions alike, and a key's budget is its own."""
    settings = published.model_copy(update={"redis_url": store, "rate_anonymous_requests_per_minute": 4})
    first, second = (f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(250)}.{n}" for n in (1, 2))
    key = _key(settings, f"keyed-app-{store is None}")

    def client(address: str, **headers: str) -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=address)
        return httpx.Client(base_url=server.url, transport=transport, headers=headers)

    with LiveServer(settings) as server:
        with client(first) as http:
            answers = [http.get("/catalog.ttl") for _ in range(3)] + [http.get("/api/3/action/package_search")]
            late = [http.get("/api/3/action/package_list"), http.get("/catalog.ttl")]
        with client(second) as http:
            other = http.get("/catalog.ttl")
        with client(first, **{"X-API-Key": key}) as http:
            keyed = http.get("/api/v1/datasets")
    assert [a.status_code for a in answers] == [200] * 4
    assert [a.status_code for a in late] == [429, 429]
    assert late[0].json()["error"]["__type"] == "Rate Limit Error"
    assert f"without a key from {first}" in late[1].json()["error"]["message"]
    assert 1 <= int(late[1].headers["Retry-After"]) <= 60
    assert other.status_code == 200, "another address has its own budget"
    assert keyed.status_code == 200, "a key is charged to its client, not to the address"


def test_rows_per_day_follow_the_grant_then_the_client(published: Settings, store: str | None) -> None:
    settings = published.model_copy(update={"redis_url": store})
    name = f"rows-app-{store is None}"
    key = _key(settings, name, rows_per_day=1_000)
    grant(settings, name)
    with db.session(settings.db_url) as s:
        from sqlalchemy import update

        from access.grants import Grant

        s.execute(update(Grant).where(Grant.client_id == clients.client(s, name).id).values(rows_per_day=12))
    with LiveServer(settings) as server, httpx.Client(base_url=server.url, headers={"X-API-Key": key}) as http:
        first = http.get(RECORDS, params={"limit": 5})
        second = http.get(RECORDS, params={"limit": 5})
        third = http.get(RECORDS, params={"limit": 5})
    assert first.status_code == second.status_code == 200
    assert third.status_code == 429 and "12 rows per day" in third.json()["error"]["message"]
    assert int(third.headers["Retry-After"]) > 0
    assert "records" not in third.json(), "nothing leaves past the budget"


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_two_workers_share_the_counters_in_redis(published: Settings) -> None:
    settings = published.model_copy(update={"redis_url": REDIS, "rate_requests_per_minute": 6})
    key = _key(settings, "two-worker-app")
    with LiveServer(settings) as a, LiveServer(settings) as b:
        codes = [
            httpx.get(f"{server.url}/api/3/action/package_search", headers={"X-API-Key": key}).status_code
            for server in (a, b, a, b, a, b, a, b)
        ]
    assert codes[:6] == [200] * 6 and codes[6:] == [429, 429]


def test_the_exchange_api_counts_requests_too(published: Settings) -> None:
    settings = published.model_copy(update={"rate_requests_per_minute": 3})
    key = _key(settings, "exchange-busy-app")
    with LiveServer(settings) as server, httpx.Client(base_url=server.url, headers={"X-API-Key": key}) as http:
        codes = [http.get("/api/v1/datasets").status_code for _ in range(4)]
        late = http.get("/api/v1/datasets")
    assert codes == [200, 200, 200, 429]
    assert late.json()["error"]["code"] == "rate_limited" and int(late.headers["Retry-After"]) >= 1


def test_the_in_memory_counters_start_no_thread_per_hit_and_are_still_swept(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from limits import RateLimitItemPerSecond
    from limits.strategies import MovingWindowRateLimiter

    from access.ratelimit import SweptMemoryStorage

    monkeypatch.setattr(SweptMemoryStorage, "SWEEP_SECONDS", 0.2)
    storage = SweptMemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    before = threading.active_count()
    item = RateLimitItemPerSecond(3)
    assert [limiter.hit(item, "t", "k") for _ in range(5)] == [True, True, True, False, False], "still enforced"
    for _ in range(300):
        storage.incr("counter", 1)
    assert threading.active_count() == before, "no timer thread per hit"
    assert any(storage.events.values())
    time.sleep(1.6)  # entries of a one-second window expire; the sweeper drops them
    assert not any(storage.events.values()), storage.events
    assert storage.get("counter") == 0
    assert limiter.hit(item, "t", "k"), "a new window admits again"
