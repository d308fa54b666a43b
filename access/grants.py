"""Access requests and grants: who may read which fields of which dataset, which rows, why, until when.

A client asks (:func:`request_access`): dataset, fields wanted, fields wanted in clear, a row
scope, purpose, legal basis, wanted expiry. A data steward answers within 10 working days
(:data:`REPLY_WORKING_DAYS`, the district's rule for providers): :func:`approve`, possibly
narrower (fewer fields, fewer in clear, a shorter expiry, a row filter), creates a
:class:`Grant`; :func:`deny` records the reason and creates nothing. Grants expire by
themselves and can be revoked; :func:`active` is what the policy reads.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from access import rowfilter
from catalog import cache
from catalog.models import ApiClient, Base, aware, utcnow
from contracts.model import Classification, Contract
from hub.errors import BadParameter, Conflict, Forbidden, NotFound

REPLY_WORKING_DAYS = 10
MAX_GRANT_DAYS = 3 * 366
"""Longest a grant may run (a steward renews it after that)."""


class RequestStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    denied = "denied"


class AccessRequest(Base):
    __tablename__ = "access_requests"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id"))
    dataset: Mapped[str] = mapped_column(String(100))
    fields: Mapped[list[Any]] = mapped_column(JSON)
    clear_fields: Mapped[list[Any]] = mapped_column(JSON)
    row_filter: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    wanted_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default=RequestStatus.pending.value)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    grant_id: Mapped[str | None] = mapped_column(String(36))


class Grant(Base):
    __tablename__ = "grants"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id"))
    dataset: Mapped[str] = mapped_column(String(100))
    fields: Mapped[list[Any]] = mapped_column(JSON)
    clear_fields: Mapped[list[Any]] = mapped_column(JSON)
    row_filter: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    granted_by: Mapped[str] = mapped_column(String(100))
    request_id: Mapped[str | None] = mapped_column(String(36))
    requests_per_minute: Mapped[int | None] = mapped_column(Integer)
    rows_per_day: Mapped[int | None] = mapped_column(BigInteger)


def working_days_after(start: dt.datetime, days: int) -> dt.datetime:
    """``days`` working days (Monday to Friday) after ``start``; public holidays are not counted out."""
    when, left = start, days
    while left:
        when += dt.timedelta(days=1)
        if when.weekday() < 5:
            left -= 1
    return when


def working_days_left(due: dt.datetime, now: dt.datetime | None = None) -> int:
    """Working days from now until ``due`` (negative: overdue by that many)."""
    now, due = aware(now or utcnow()), aware(due)
    sign, a, b = (1, now.date(), due.date()) if due >= now else (-1, due.date(), now.date())
    count = sum(1 for i in range((b - a).days) if (a + dt.timedelta(days=i + 1)).weekday() < 5)
    return sign * count


def grantable(contract: Contract) -> list[str]:
    """Fields a grant may name: every field but the restricted ones (they never leave the hub)."""
    return [f.name for f in contract.fields if f.classification is not Classification.restricted]


def _check_fields(contract: Contract, fields: Sequence[str], clear: Sequence[str]) -> tuple[list[str], list[str]]:
    allowed = grantable(contract)
    names = list(dict.fromkeys(fields)) or allowed
    unknown = [f for f in names if f not in allowed]
    if unknown:
        restricted = [f for f in unknown if f in {x.name for x in contract.fields}]
        why = "restricted: never released, ask for a verify call instead" if restricted else "not fields of it"
        raise BadParameter(f"{', '.join(unknown)} of {contract.id}: {why}", column="fields", rule="fields")
    clear_names = list(dict.fromkeys(clear))
    outside = [f for f in clear_names if f not in names]
    if outside:
        raise BadParameter(f"fields in clear must be among the fields asked for: {', '.join(outside)}", column="clear")
    return names, clear_names


def _row_filter(contract: Contract, text: str | None) -> str | None:
    if not text:
        return None
    clear_columns = [
        f.name for f in contract.fields if f.classification in (Classification.public, Classification.internal)
    ]
    return rowfilter.parse(text, clear_columns)


def _until(value: dt.date | dt.datetime | None, default_days: int) -> dt.datetime:
    now = utcnow()
    if value is None:
        return now + dt.timedelta(days=default_days)
    when = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time.max, dt.UTC)
    when = aware(when)
    if when <= now:
        raise BadParameter(f"expiry {when:%Y-%m-%d} is in the past", column="expires")
    if when > now + dt.timedelta(days=MAX_GRANT_DAYS):
        raise BadParameter(f"a grant runs at most {MAX_GRANT_DAYS} days", column="expires")
    return when


def request_access(
    s: Session,
    client: ApiClient,
    contract: Contract,
    *,
    fields: Sequence[str],
    clear_fields: Sequence[str] = (),
    row_filter: str | None = None,
    purpose: str,
    legal_basis: str,
    wanted_until: dt.date | None = None,
) -> AccessRequest:
    if not purpose.strip() or not legal_basis.strip():
        raise BadParameter("an access request states its purpose and its legal basis", column="purpose")
    names, clear = _check_fields(contract, fields, clear_fields)
    now = utcnow()
    row = AccessRequest(
        id=str(uuid.uuid4()),
        client_id=client.id,
        dataset=contract.id,
        fields=names,
        clear_fields=clear,
        row_filter=_row_filter(contract, row_filter),
        purpose=purpose.strip(),
        legal_basis=legal_basis.strip(),
        wanted_until=_until(wanted_until, 365) if wanted_until else None,
        status=RequestStatus.pending.value,
        created=now,
        due=working_days_after(now, REPLY_WORKING_DAYS),
    )
    s.add(row)
    s.flush()
    return row


def request(s: Session, request_id: str) -> AccessRequest:
    found = s.get(AccessRequest, request_id)
    if found is None:
        raise NotFound(f"access request {request_id} not found")
    return found


def requests(
    s: Session, *, client: ApiClient | None = None, status: RequestStatus | None = None
) -> list[AccessRequest]:
    """Requests, pending ones first and oldest first (the order a steward answers them in)."""
    q = select(AccessRequest)
    if client is not None:
        q = q.where(AccessRequest.client_id == client.id)
    if status is not None:
        q = q.where(AccessRequest.status == status.value)
    rows = list(s.scalars(q.order_by(AccessRequest.created)))
    return sorted(rows, key=lambda r: r.status != RequestStatus.pending.value)


def _decidable(req: AccessRequest, steward: ApiClient) -> None:
    if steward.role != "steward":
        raise Forbidden("only a data steward decides access requests")
    if req.status != RequestStatus.pending.value:
        raise Conflict(f"access request {req.id} is already {req.status}")
    if req.client_id == steward.id:
        raise Forbidden("a steward cannot decide their own access request")


def approve(
    s: Session,
    req: AccessRequest,
    steward: ApiClient,
    contract: Contract,
    *,
    fields: Sequence[str] | None = None,
    clear_fields: Sequence[str] | None = None,
    row_filter: str | None = None,
    expires: dt.date | None = None,
) -> Grant:
    """Approve, possibly narrower than asked: fewer fields or clear fields, a filter, a shorter expiry."""
    _decidable(req, steward)
    names = list(fields) if fields is not None else list(req.fields)
    clear = list(clear_fields) if clear_fields is not None else list(req.clear_fields)
    wider = [f for f in names if f not in req.fields] + [f for f in clear if f not in req.clear_fields]
    if wider:
        raise BadParameter(f"an approval may narrow a request, not widen it: {', '.join(wider)}", column="fields")
    names, clear = _check_fields(contract, names, clear)
    until = _until(expires, 365) if expires else (aware(req.wanted_until) if req.wanted_until else _until(None, 365))
    if req.wanted_until and until > aware(req.wanted_until):
        raise BadParameter("an approval may shorten the expiry asked for, not extend it", column="expires")
    grant = Grant(
        id=str(uuid.uuid4()),
        client_id=req.client_id,
        dataset=req.dataset,
        fields=names,
        clear_fields=clear,
        row_filter=_row_filter(contract, row_filter) if row_filter else req.row_filter,
        purpose=req.purpose,
        legal_basis=req.legal_basis,
        created=utcnow(),
        expires=until,
        granted_by=steward.name,
        request_id=req.id,
    )
    s.add(grant)
    req.status, req.decided, req.decided_by, req.grant_id = (
        RequestStatus.approved.value,
        utcnow(),
        steward.name,
        grant.id,
    )
    s.flush()
    return grant


def deny(s: Session, req: AccessRequest, steward: ApiClient, reason: str) -> None:
    _decidable(req, steward)
    if not reason.strip():
        raise BadParameter("a refusal states its reason", column="reason")
    req.status, req.decided, req.decided_by, req.reason = RequestStatus.denied.value, utcnow(), steward.name, reason


def create(
    s: Session,
    client: ApiClient,
    contract: Contract,
    steward: ApiClient,
    *,
    fields: Sequence[str],
    clear_fields: Sequence[str] = (),
    row_filter: str | None = None,
    purpose: str,
    expires: dt.date | None = None,
) -> Grant:
    """A grant made directly by a steward (``hub grants create``), without a request."""
    if steward.role != "steward":
        raise Forbidden("only a data steward creates grants")
    if not purpose.strip():
        raise BadParameter("a grant states its purpose", column="purpose")
    names, clear = _check_fields(contract, fields, clear_fields)
    grant = Grant(
        id=str(uuid.uuid4()),
        client_id=client.id,
        dataset=contract.id,
        fields=names,
        clear_fields=clear,
        row_filter=_row_filter(contract, row_filter),
        purpose=purpose.strip(),
        created=utcnow(),
        expires=_until(expires, 365),
        granted_by=steward.name,
    )
    s.add(grant)
    s.flush()
    return grant


def grant(s: Session, grant_id: str) -> Grant:
    found = s.get(Grant, grant_id)
    if found is None:
        raise NotFound(f"grant {grant_id} not found")
    return found


def revoke(s: Session, found: Grant) -> None:
    if found.revoked is None:
        found.revoked = utcnow()


def is_live(found: Grant, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    return found.revoked is None and aware(found.expires) > now


def active(s: Session, client: ApiClient | None, dataset: str, now: dt.datetime | None = None) -> list[Grant]:
    """The client's live grants on ``dataset``, newest first."""
    if client is None:
        return []
    now = aware(now or utcnow())
    client_id = client.id

    def load(o: Session) -> list[Grant]:  # the statement is built only on a miss
        q = select(Grant).where(Grant.client_id == client_id, Grant.dataset == dataset, Grant.revoked.is_(None))
        return list(o.scalars(q.order_by(Grant.created.desc())))

    unrevoked = cache.lookup(s, ("grants", client_id, dataset), load)
    return [g for g in unrevoked if aware(g.expires) > now]


def listing(
    s: Session, *, client: ApiClient | None = None, dataset: str | None = None, live_only: bool = False
) -> list[Grant]:
    q = select(Grant).order_by(Grant.created.desc())
    if client is not None:
        q = q.where(Grant.client_id == client.id)
    if dataset:
        q = q.where(Grant.dataset == dataset)
    if live_only:
        q = q.where(Grant.revoked.is_(None), Grant.expires > utcnow())
    return list(s.scalars(q))
