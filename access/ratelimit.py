"""Per-client rate limits: requests per minute and rows per day, with the ``limits`` library.

Counters live in memory by default (one API process) and in Redis when ``HUB_REDIS_URL`` is
set, so several workers share them. The numbers come from the client's grant on the dataset
when it sets them, else from the client's own limits, else from the hub's defaults
(``HUB_RATE_REQUESTS_PER_MINUTE``, ``HUB_RATE_ROWS_PER_DAY``). A request without a key is charged
to its client address (``HUB_RATE_ANONYMOUS_REQUESTS_PER_MINUTE``). Over a limit the answer is 429
with ``Retry-After``.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from limits import RateLimitItemPerDay, RateLimitItemPerMinute
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from catalog.models import ApiClient
from hub.errors import RateLimited
from hub.settings import Settings


@dataclass(frozen=True)
class Limits:
    requests_per_minute: int
    rows_per_day: int


class SweptMemoryStorage(MemoryStorage):
    """``limits``' in-memory storage with one sweeper thread for the process.

    The library's storage starts a new 10 ms timer thread whenever the last one has ended, so a
    server answering a few hundred requests a second starts a thread for most of them. Its counts
    do not depend on the sweep (windows are checked against the clock on every hit; the sweep only
    drops what has expired), so one daemon thread sweeping every :attr:`SWEEP_SECONDS` keeps the
    memory bounded at no cost per request.
    """

    SWEEP_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._sweeper = threading.Thread(target=self._sweep, name="rate-limit-sweeper", daemon=True)
        self._sweeper.start()

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - replaces the library's private hook
        """Nothing per hit: :meth:`_sweep` runs on its own."""

    def _sweep(self) -> None:
        while True:
            time.sleep(self.SWEEP_SECONDS)
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


class Limiter:
    """One per process (per storage URL): moving one-minute window for requests, a day's budget for rows."""

    def __init__(self, url: str):
        self.url = url
        self.storage = SweptMemoryStorage() if url == "memory://" else storage_from_string(url)
        self.requests = MovingWindowRateLimiter(self.storage)
        self.rows = FixedWindowRateLimiter(self.storage)

    def request(self, client: ApiClient, limits: Limits) -> None:
        self._minute("requests", client.id, limits.requests_per_minute, f"for {client.name}")

    def anonymous_request(self, address: str, per_minute: int) -> None:
        """Charge a request without a key to its client address."""
        self._minute("anonymous", address, per_minute, f"without a key from {address}")

    def _minute(self, space: str, key: str, per_minute: int, whom: str) -> None:
        item = RateLimitItemPerMinute(per_minute)
        if not self.requests.hit(item, space, key):
            reset, _ = self.requests.get_window_stats(item, space, key)
            raise RateLimited(f"rate limit: {per_minute} requests per minute {whom}", math.ceil(reset - time.time()))

    def rows_served(self, client: ApiClient, limits: Limits, rows: int) -> None:
        """Charge ``rows`` to today's budget, refusing (before the data leaves) when it would pass it."""
        if rows <= 0:
            return
        item = RateLimitItemPerDay(limits.rows_per_day)
        if rows > limits.rows_per_day or not self.rows.hit(item, "rows", client.id, cost=rows):
            reset, _ = self.rows.get_window_stats(item, "rows", client.id)
            raise RateLimited(
                f"rate limit: {limits.rows_per_day:,} rows per day for {client.name}; this answer has {rows:,}",
                math.ceil(reset - time.time()),
            )


_limiters: dict[str, Limiter] = {}
_lock = threading.Lock()


def limiter(settings: Settings) -> Limiter:
    url = settings.redis_url or "memory://"
    with _lock:
        found = _limiters.get(url)
        if found is None:
            found = _limiters[url] = Limiter(url)
        return found


def limits_for(settings: Settings, client: ApiClient, grant: object | None = None) -> Limits:
    """The grant's numbers where it sets them, else the client's, else the hub's defaults."""

    def pick(name: str, default: int) -> int:
        for source in (grant, client):
            value = getattr(source, name, None) if source is not None else None
            if value:
                return int(value)
        return default

    return Limits(
        pick("requests_per_minute", settings.rate_requests_per_minute),
        pick("rows_per_day", settings.rate_rows_per_day),
    )
