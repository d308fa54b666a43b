"""Webhook subscriptions: a signed notice to a client's URL for each new version of a dataset.

A client that may read a dataset registers a URL for it (:func:`subscribe`). Publishing only
writes an outbox row per live subscription (:func:`enqueue`, in the same transaction that records
the version), so a publish never waits for a receiver. A dispatcher (:class:`Dispatcher`, one
thread in each API process, or ``hub subscriptions deliver``) runs :func:`deliver_due`: it claims
due deliveries one at a time with a conditional UPDATE, so two processes never send the same one,
checks that the subscriber may still read the dataset, POSTs the notice and records the outcome,
retrying with backoff until :attr:`hub.settings.Settings.webhook_max_attempts`.

The notice carries metadata and counts only, never a record. It is signed Stripe-style:
``X-Hub-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``; the secret of a
subscription is HMAC-SHA256(``HUB_HOME/webhook.key``, subscription id), shown once when it is
registered and never stored. Receivers check it with :func:`verify_signature`.

URLs are checked against server-side request forgery when registered and again before each
delivery (:func:`check_url`): http or https only, no user information, every address the host
resolves to outside loopback, link-local, multicast, unspecified and reserved ranges (or, when
``HUB_WEBHOOK_ALLOWED_NETWORKS`` is set, inside it); the request goes to the address that was
checked, and redirects are never followed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import httpx
import orjson
from pydantic import BaseModel
from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from access import grants, secretfile
from access.policy import policy_for
from catalog import clients, db, service
from catalog.models import ApiClient, ApiKey, Base, Dataset, utcnow
from contracts import model
from exchange import changes, versions
from hub.errors import BadParameter, Conflict, HubError, NotAuthorized, NotFound
from hub.settings import Settings

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

EVENT = "dataset.version"
MAX_URL_CHARS = 2000
MAX_ERROR_CHARS = 500
MAX_PER_CLIENT = 100
"""Live subscriptions one client may hold."""
BACKOFF = (
    dt.timedelta(seconds=30),
    dt.timedelta(minutes=2),
    dt.timedelta(minutes=10),
    dt.timedelta(hours=1),
    dt.timedelta(hours=6),
)
"""Wait after the 1st, 2nd, … failed attempt (the last one repeats)."""
SIGNATURE_TOLERANCE = 300
"""Seconds a signature's timestamp may differ from the receiver's clock."""
SECRET_PREFIX = "whsec_"


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"
    skipped = "skipped"


class Subscription(Base):
    """A client's webhook URL for one dataset (its secret is derived, never stored)."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_dataset", "dataset", "revoked_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id"))
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"))
    """The key it was registered with: revoking or expiring that key ends its deliveries."""
    dataset: Mapped[str] = mapped_column(String(100))
    """The dataset id (contract id, ``population.residents``)."""
    url: Mapped[str] = mapped_column(String(MAX_URL_CHARS))
    description: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(100))

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class Delivery(Base):
    """One notice of one version to one subscription (the outbox row and its delivery record)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "version"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"))
    dataset: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    snapshot_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.pending.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """Set while one dispatcher sends it; a claim that outlives its process expires."""
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(Text)
    """The notice's JSON, fixed at the first attempt: every retry sends the same bytes."""
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# --- the notice and its signature -------------------------------------------------------------


class Changes(BaseModel):
    added: int
    changed: int
    removed: int


class Links(BaseModel):
    """API paths (relative to the hub's base URL) to read the version."""

    records: str
    changes: str | None
    export: str


class Notice(BaseModel):
    """What a subscriber receives for each new version: metadata and counts, never a record."""

    event: str = EVENT
    dataset: str
    version: int
    snapshot_id: str
    published_at: str
    row_count: int
    changes: Changes | None
    """Rows added, changed and removed since the previous version (every field compared); null
    for the first version."""
    links: Links

    def body(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))


def master_key(settings: Settings) -> bytes:
    return secretfile.load(settings.resolved_home / "webhook.key")


def secret(settings: Settings, subscription_id: str) -> str:
    """The signing secret of a subscription: derived from the hub's webhook key, never stored."""
    digest = hmac.new(master_key(settings), subscription_id.encode("ascii"), hashlib.sha256).hexdigest()
    return SECRET_PREFIX + digest


def sign(secret_text: str, body: bytes, timestamp: int) -> str:
    """The ``X-Hub-Signature`` header of ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret_text.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret_text: str, header: str, body: bytes, tolerance: int = SIGNATURE_TOLERANCE, now: float | None = None
) -> bool:
    """For receivers: does ``header`` (``X-Hub-Signature``) sign exactly ``body`` with ``secret_text``,
    at a time within ``tolerance`` seconds of now? Pass the raw request body, before any JSON parsing."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v.strip() for k, v in parts if k.strip() == "t"]
    candidates = [v.strip() for k, v in parts if k.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not candidates:
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret_text, body, timestamp).rsplit("v1=", 1)[1]
    return any(hmac.compare_digest(expected, c) for c in candidates)


# --- where a webhook may point ----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A checked webhook URL and the addresses its host resolved to (the request goes to those)."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.I)
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")


def _refuse(url: str, why: str) -> BadParameter:
    shown = url if len(url) <= 120 else url[:120] + "…"
    return BadParameter(f"webhook URL {shown!r} is refused: {why}", column="url", rule="webhook_url")


def _shape(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of ``url``, refusing every form that is not a plain http(s) URL."""
    if len(url) > MAX_URL_CHARS:
        raise _refuse(url, f"longer than {MAX_URL_CHARS} characters")
    if not url.isascii() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise _refuse(url, "only printable ASCII is allowed (write international host names in punycode)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _refuse(url, f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _refuse(url, "only http and https URLs are allowed")
    if "@" in parts.netloc:
        raise _refuse(url, "user names and passwords in the URL are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _refuse(url, "the URL has no host")
    if "%" in host:
        raise _refuse(url, "IPv6 zone identifiers are not allowed")
    if ":" not in host and _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        try:
            canonical = str(ipaddress.IPv4Address(host)) == host
        except ValueError:
            canonical = False
        if not canonical:
            raise _refuse(url, "a numeric host must be a dotted-quad IPv4 address (no decimal, octal or short forms)")
    return scheme, host, port or (443 if scheme == "https" else 80)


def _plain(address: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) is the IPv4 address it reaches."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_refusal(address: IPAddress, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """Why a webhook may not reach ``address`` (None: it may)."""
    address = _plain(address)
    if allowed:
        if any(address in net for net in allowed):
            return None
        return f"{address} is outside HUB_WEBHOOK_ALLOWED_NETWORKS"
    kinds = [
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("'this network'", isinstance(address, ipaddress.IPv4Address) and address in _THIS_NETWORK),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
    ]
    found = [name for name, hit in kinds if hit]
    return f"{address} is a {found[0]} address" if found else None


def resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """Every address ``host`` resolves to (IPv4 and IPv6), in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    return tuple(dict.fromkeys(found))


def check_url(url: str, allowed: Sequence[IPNetwork] = ()) -> Target:
    """The checked target of a webhook URL, or :class:`BadParameter` (400) saying why not."""
    scheme, host, port = _shape(url)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError) as exc:
        raise _refuse(url, f"host {host} cannot be resolved ({exc})") from None
    if not addresses:
        raise _refuse(url, f"host {host} has no address")
    for address in addresses:
        why = address_refusal(address, allowed)
        if why:
            raise _refuse(url, why)
    return Target(url, scheme, host, port, addresses)


# --- registering ------------------------------------------------------------------------------


def subscribe(
    s: Session,
    settings: Settings,
    caller: ApiClient,
    key: ApiKey,
    ds: Dataset,
    *,
    url: str,
    description: str = "",
) -> tuple[Subscription, str]:
    """Register ``url`` for new versions of ``ds``; the subscription and its secret (shown once).

    The caller must be able to read the dataset now (its Forbidden propagates) and at each
    delivery; the URL is checked here and again before each delivery."""
    contract = model.find(settings.active_contracts_dir, ds.key)
    policy_for(caller, ds, contract, grants.active(s, caller, ds.key))
    url = url.strip()
    check_url(url, settings.webhook_allowed_networks)
    live = listing(s, client=caller, active_only=True)
    same = next((x for x in live if x.dataset == ds.key and x.url == url), None)
    if same is not None:
        raise Conflict(f"you already have subscription {same.id} for {ds.key} at this URL")
    if len(live) >= MAX_PER_CLIENT:
        raise Conflict(f"a client holds at most {MAX_PER_CLIENT} subscriptions; cancel one first")
    sub = Subscription(
        id=str(uuid.uuid4()),
        client_id=caller.id,
        key_id=key.id,
        dataset=ds.key,
        url=url,
        description=description.strip(),
        created=utcnow(),
        created_by=caller.name,
    )
    s.add(sub)
    s.flush()
    return sub, secret(settings, sub.id)


def subscription(s: Session, subscription_id: str) -> Subscription:
    found = s.get(Subscription, subscription_id)
    if found is None:
        raise NotFound(f"subscription {subscription_id} not found")
    return found


def listing(
    s: Session, *, client: ApiClient | None = None, dataset: str | None = None, active_only: bool = False
) -> list[Subscription]:
    """Subscriptions, newest first; ``client`` None: everyone's."""
    q = select(Subscription).order_by(Subscription.created.desc())
    if client is not None:
        q = q.where(Subscription.client_id == client.id)
    if dataset:
        q = q.where(Subscription.dataset == dataset)
    if active_only:
        q = q.where(Subscription.revoked_at.is_(None))
    return list(s.scalars(q))


def cancel(s: Session, sub: Subscription, by: str) -> None:
    """End a subscription; its pending deliveries are skipped."""
    if sub.revoked_at is not None:
        return
    sub.revoked_at, sub.revoked_by = utcnow(), by
    pending = select(Delivery).where(
        Delivery.subscription_id == sub.id, Delivery.status == DeliveryStatus.pending.value
    )
    for d in s.scalars(pending):
        d.status, d.last_error, d.claimed_until = DeliveryStatus.skipped.value, "subscription cancelled", None


def deliveries(s: Session, sub: Subscription, limit: int = 100) -> list[Delivery]:
    """The subscription's deliveries, newest version first."""
    q = select(Delivery).where(Delivery.subscription_id == sub.id).order_by(Delivery.version.desc()).limit(limit)
    return list(s.scalars(q))


# --- the outbox -------------------------------------------------------------------------------


def enqueue(s: Session, dataset: str, version: int, snapshot_id: int) -> int:
    """One pending delivery of ``version`` per live subscription to ``dataset`` (idempotent: a
    rerun of the publish adds nothing). Runs in the transaction recording the version; sends nothing."""
    subs = s.scalars(select(Subscription.id).where(Subscription.dataset == dataset, Subscription.revoked_at.is_(None)))
    queued = set(
        s.scalars(select(Delivery.subscription_id).where(Delivery.dataset == dataset, Delivery.version == version))
    )
    now, added = utcnow(), 0
    for sub_id in subs.all():
        if sub_id in queued:
            continue
        s.add(
            Delivery(
                id=str(uuid.uuid4()),
                subscription_id=sub_id,
                dataset=dataset,
                version=version,
                snapshot_id=snapshot_id,
                status=DeliveryStatus.pending.value,
                attempts=0,
                next_attempt_at=now,
                created=now,
            )
        )
        added += 1
    s.flush()
    return added


# --- delivering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What one pass did with one delivery."""

    delivery_id: str
    subscription_id: str
    dataset: str
    version: int
    url: str
    status: DeliveryStatus
    attempts: int
    status_code: int | None = None
    error: str | None = None

    def describe(self) -> str:
        code = f" HTTP {self.status_code}" if self.status_code is not None else ""
        why = f" ({self.error})" if self.error else ""
        return f"{self.dataset} v{self.version} → {self.url}: {self.status}{code}{why}, attempt {self.attempts}"


def _due(now: dt.datetime) -> ColumnElement[bool]:
    """Pending, its time come, and claimed by nobody (or by a dispatcher whose lease ran out)."""
    return (
        (Delivery.status == DeliveryStatus.pending.value)
        & (Delivery.next_attempt_at <= now)
        & or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now)
    )


def _claim_next(url: str, now: dt.datetime, lease: dt.timedelta, tried: set[str]) -> str | None:
    """Claim one due delivery: the UPDATE only succeeds if nobody holds it (``claimed_until``)."""
    with db.session(url) as s:
        q = select(Delivery.id).where(_due(now)).order_by(Delivery.next_attempt_at, Delivery.version).limit(20)
        for candidate in s.scalars(q).all():
            if candidate in tried:
                continue
            claim = sql_update(Delivery).where(Delivery.id == candidate, _due(now)).values(claimed_until=now + lease)
            if s.execute(claim).rowcount == 1:  # type: ignore[attr-defined]
                return str(candidate)
    return None


def _why_not(s: Session, settings: Settings, sub: Subscription | None) -> str | None:
    """Why a notice must not be sent (None: it may): cancelled, dead key, no longer readable."""
    if sub is None or sub.revoked_at is not None:
        return "subscription cancelled"
    key = s.get(ApiKey, sub.key_id)
    if key is None or clients.state(key) != "live":
        state = clients.state(key) if key is not None else "gone"
        return f"the key the subscription was registered with ({key.prefix if key else '?'}…) is {state}"
    try:
        caller = s.get(ApiClient, sub.client_id)
        ds = service.dataset(s, sub.dataset)
        contract = model.find(settings.active_contracts_dir, ds.key)
        policy_for(caller, ds, contract, grants.active(s, caller, ds.key))
    except NotAuthorized as exc:  # Forbidden too
        return f"the subscriber may no longer read {sub.dataset}: {exc}"
    except HubError as exc:
        return str(exc)
    return None


def notice(s: Session, settings: Settings, dataset: str, version: int) -> Notice:
    """The notice of ``version`` of ``dataset``, with change counts against the version before it."""
    ds = service.dataset(s, dataset)
    at = versions.resolve(ds, str(version))
    earlier = [v.number for v in ds.versions if v.number < version]
    previous = versions.resolve(ds, str(max(earlier))) if earlier else None
    counts = None
    if previous is not None:
        found = changes.counts(settings, model.find(settings.active_contracts_dir, ds.key), previous, at)
        counts = Changes(added=found.added, changed=found.changed, removed=found.removed)
    base = f"/api/v1/datasets/{ds.name}"
    return Notice(
        dataset=ds.key,
        version=at.version,
        snapshot_id=str(at.snapshot_id),
        published_at=at.describe()["published_at"],
        row_count=at.row_count,
        changes=counts,
        links=Links(
            records=f"{base}/records?as_of={at.version}",
            changes=f"{base}/changes?since={previous.version}&until={at.version}" if previous else None,
            export=f"{base}/export?as_of={at.version}",
        ),
    )


@dataclass
class _Pass:
    """One pass of the dispatcher: its clock, its HTTP client and the notices it built."""

    settings: Settings
    now: dt.datetime
    http: httpx.Client
    notices: dict[tuple[str, int], str]
    """Body of each (dataset, version) notice built so far."""
    broken: dict[tuple[str, int], str]
    """Why a notice could not be built (not tried again in this pass)."""


class NoticeError(HubError):
    """The notice of a version could not be built (retried like a failed send)."""

    retryable = True


def _payload(s: Session, run: _Pass, d: Delivery) -> str:
    """The delivery's fixed body: stored at its first attempt, built once per version per pass."""
    if d.payload is not None:
        return d.payload
    key = (d.dataset, d.version)
    if key in run.broken:
        raise NoticeError(run.broken[key])
    if key not in run.notices:
        try:
            run.notices[key] = notice(s, run.settings, d.dataset, d.version).body().decode("utf-8")
        except Exception as exc:  # noqa: BLE001 - recorded on the delivery and retried, never fatal to the pass
            run.broken[key] = f"the notice could not be built: {type(exc).__name__}: {exc}"
            raise NoticeError(run.broken[key]) from exc
    d.payload = run.notices[key]
    return d.payload


def _post(http: httpx.Client, target: Target, headers: dict[str, str], body: bytes) -> int:
    """POST ``body`` to the checked addresses of ``target`` (first that connects); the status code.
    The host name goes in ``Host`` and TLS's SNI, so certificates are checked against it."""
    url = httpx.URL(target.url)
    host_header = url.netloc.decode("ascii")
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    last: Exception | None = None
    for address in target.addresses:
        pinned = url.copy_with(host=str(address))
        try:
            with http.stream(
                "POST", pinned, content=body, headers={**headers, "Host": host_header}, extensions=extensions
            ) as answer:
                return answer.status_code  # the body is not read: a receiver cannot make us download
        except httpx.ConnectError as exc:
            last = exc
    assert last is not None
    raise last


def _send(run: _Pass, sub: Subscription, delivery_id: str, body: bytes) -> tuple[int | None, str | None]:
    """Check the URL again, sign and send; the status code, or the error that stopped it."""
    try:
        target = check_url(sub.url, run.settings.webhook_allowed_networks)
    except BadParameter as exc:
        return None, str(exc)
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "basedata-hub-webhooks",
        "X-Hub-Event": EVENT,
        "X-Hub-Delivery": delivery_id,
        "X-Hub-Signature": sign(secret(run.settings, sub.id), body, stamp),
    }
    try:
        return _post(run.http, target, headers, body), None
    except httpx.TimeoutException as exc:
        return None, f"timed out ({type(exc).__name__})"
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"


def _attempt(run: _Pass, delivery_id: str) -> Attempt:
    """Skip, or send and record, one claimed delivery. No transaction is open while it is sent."""
    body: bytes | None = None
    with db.session(run.settings.db_url) as s:
        d = s.get(Delivery, delivery_id)
        assert d is not None
        sub = s.get(Subscription, d.subscription_id)
        why = _why_not(s, run.settings, sub)
        if why is not None or sub is None:
            d.status, d.claimed_until = DeliveryStatus.skipped.value, None
            d.last_error = (why or "subscription cancelled")[:MAX_ERROR_CHARS]
            return Attempt(d.id, d.subscription_id, d.dataset, d.version, sub.url if sub else "",
                           DeliveryStatus.skipped, d.attempts, None, d.last_error)  # fmt: skip
        try:
            body = _payload(s, run, d).encode("utf-8")
        except NoticeError as exc:
            failure = str(exc)
    if body is None:
        return _record(run, delivery_id, sub.url, None, failure)
    code, error = _send(run, sub, delivery_id, body)
    return _record(run, delivery_id, sub.url, code, error)


def _record(run: _Pass, delivery_id: str, url: str, code: int | None, error: str | None) -> Attempt:
    """Write an attempt's outcome: delivered on 2xx, else retried after the backoff or failed."""
    with db.session(run.settings.db_url) as s:
        d = s.get(Delivery, delivery_id)
        assert d is not None
        d.attempts += 1
        d.last_status_code, d.claimed_until = code, None
        if code is not None and 200 <= code < 300:
            d.status, d.delivered_at, d.last_error = DeliveryStatus.delivered.value, run.now, None
        else:
            error = error or f"the receiver answered HTTP {code}"
            d.last_error = error[:MAX_ERROR_CHARS]
            if d.attempts >= run.settings.webhook_max_attempts:
                d.status = DeliveryStatus.failed.value
            else:
                d.next_attempt_at = run.now + BACKOFF[min(d.attempts, len(BACKOFF)) - 1]
        return Attempt(d.id, d.subscription_id, d.dataset, d.version, url, DeliveryStatus(d.status), d.attempts,
                       code, d.last_error)  # fmt: skip


def deliver_due(
    settings: Settings,
    now: dt.datetime | None = None,
    *,
    timeout: float = 5.0,
    stop: threading.Event | None = None,
    limit: int = 1000,
) -> list[Attempt]:
    """One pass: send every delivery due at ``now`` (default: the clock), one at a time, each
    claimed first so no other process sends it too. ``stop`` ends the pass between deliveries."""
    lease = dt.timedelta(seconds=max(60.0, 4 * timeout))
    done: list[Attempt] = []
    tried: set[str] = set()
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as http:
        run = _Pass(settings, now or utcnow(), http, {}, {})
        while len(done) < limit and not (stop is not None and stop.is_set()):
            run.now = now or utcnow()
            claimed = _claim_next(settings.db_url, run.now, lease, tried)
            if claimed is None:
                break
            tried.add(claimed)
            done.append(_attempt(run, claimed))
    return done


class Dispatcher:
    """The background thread of an API process that runs :func:`deliver_due` every
    ``webhook_poll_seconds`` (0: no thread). :meth:`stop` returns once the current delivery ends."""

    def __init__(self, settings: Settings, timeout: float = 5.0):
        self.settings, self.timeout = settings, timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Dispatcher:
        if self.settings.webhook_poll_seconds > 0:
            self._thread = threading.Thread(target=self._run, name="hub-webhooks", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for attempt in deliver_due(self.settings, timeout=self.timeout, stop=self._stop):
                    log.info("webhook %s", attempt.describe())
            except Exception:  # noqa: BLE001 - the dispatcher outlives a failed pass; the next one retries
                log.exception("webhook delivery pass failed")
            self._stop.wait(self.settings.webhook_poll_seconds)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3 * self.timeout + 5)
