"""The two checkpoints every data path passes: admitting a caller's request, and releasing an answer.

:func:`admit` charges one request to the caller's per-minute limit, or, for a caller without a
key, to its client address's (both authentication paths call it: the exchange API's dependency
and the CKAN dispatcher). :func:`release` runs after a
data path has read its rows and before it answers: the rows are charged to the caller's daily
budget (429 past it, and nothing leaves), the audit record is written and committed, and the
rows are counted in ``hub_rows_served_total``.
"""

from __future__ import annotations

import anyio.to_thread
from sqlalchemy.orm import Session

from access import audit, ratelimit
from access.policy import Policy
from catalog.models import ApiClient
from hub import metrics
from hub.settings import Settings


def admit(settings: Settings, caller: ApiClient | None, address: str | None = None) -> None:
    if caller is None:
        per_minute = settings.rate_anonymous_requests_per_minute
        ratelimit.limiter(settings).anonymous_request(address or "unknown", per_minute)
        return
    ratelimit.limiter(settings).request(caller, ratelimit.limits_for(settings, caller))


def release(s: Session, settings: Settings, caller: ApiClient | None, policy: Policy, event: audit.Event) -> None:
    _charge(settings, caller, policy, event)
    audit.write(s, settings, event)
    metrics.rows_served(event.dataset or "", event.action, event.rows)


async def release_async(
    s: Session, settings: Settings, caller: ApiClient | None, policy: Policy, event: audit.Event
) -> None:
    """:func:`release` for a route on the API's event loop (the rows budget in Redis is charged
    from a worker thread; the audit record is awaited, see :func:`audit.write_async`)."""
    if settings.redis_url:
        await anyio.to_thread.run_sync(_charge, settings, caller, policy, event)
    else:
        _charge(settings, caller, policy, event)
    await audit.write_async(s, settings, event)
    metrics.rows_served(event.dataset or "", event.action, event.rows)


def _charge(settings: Settings, caller: ApiClient | None, policy: Policy, event: audit.Event) -> None:
    if caller is not None and event.rows > 0:
        ratelimit.limiter(settings).rows_served(caller, ratelimit.limits_for(settings, caller, policy), event.rows)
