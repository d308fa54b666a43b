"""校核 disputes: a consumer flags a value it believes wrong; the providing department answers.

A client that may read a record files a dispute on one field of it: the record's ``_key`` as the
client sees it, the field, the value it claims is right and its evidence. The providing department
(or a data steward) answers within the contract's ``disputeDays`` working days: **corrected** in a
version newer than the one disputed, or **rejected** with a reason. The filer may **withdraw** an
open dispute. Every step is a :class:`DisputeEvent` (who, when, what), kept in order.

States and who moves them (:data:`TRANSITIONS`)::

    open ──correct (provider, steward)──▶ corrected     terminal
    open ──reject  (provider, steward)──▶ rejected      terminal
    open ──withdraw (filer)────────────▶ withdrawn     terminal

An answered dispute is closed: a filer who disagrees files a new one (with new evidence). Open
disputes past their deadline are **overdue**; :func:`open_and_overdue` gives both counts to the
quality score.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from access.grants import working_days_after
from catalog import permissions
from catalog.models import ApiClient, Base, Dataset, Version, aware, utcnow
from contracts.model import Contract
from hub.errors import BadParameter, Conflict, Forbidden, NotFound

MAX_VALUE_CHARS = 2000
MAX_EVIDENCE_CHARS = 8000


class DisputeStatus(StrEnum):
    open = "open"
    corrected = "corrected"
    rejected = "rejected"
    withdrawn = "withdrawn"


class Party(StrEnum):
    """How a client stands to a dispute."""

    filer = "filer"
    provider = "provider"
    """A member of the department that provides the dataset."""
    steward = "steward"


class Action(StrEnum):
    file = "file"
    correct = "correct"
    reject = "reject"
    withdraw = "withdraw"


TRANSITIONS: dict[tuple[DisputeStatus, Action], tuple[DisputeStatus, frozenset[Party]]] = {
    (DisputeStatus.open, Action.correct): (DisputeStatus.corrected, frozenset({Party.provider, Party.steward})),
    (DisputeStatus.open, Action.reject): (DisputeStatus.rejected, frozenset({Party.provider, Party.steward})),
    (DisputeStatus.open, Action.withdraw): (DisputeStatus.withdrawn, frozenset({Party.filer})),
}
"""(state, action) → (next state, who may do it). Anything not here is refused."""


class Dispute(Base):
    __tablename__ = "disputes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(100), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id"))
    key: Mapped[str] = mapped_column(String(200))
    """The record's ``_key`` as the filer sees it (shown to the filer only)."""
    locator: Mapped[str] = mapped_column(String(64))
    """The hub's own pseudonym of the record's primary key (:mod:`exchange.lookup`)."""
    field: Mapped[str] = mapped_column(String(100))
    claimed_value: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    """The version the filer read when filing."""
    status: Mapped[str] = mapped_column(String(20), default=DisputeStatus.open.value)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    answered: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by: Mapped[str | None] = mapped_column(String(100))
    corrected_in: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    events: Mapped[list[DisputeEvent]] = relationship(order_by="DisputeEvent.seq", cascade="all, delete-orphan")


class DisputeEvent(Base):
    __tablename__ = "dispute_events"
    __table_args__ = (UniqueConstraint("dispute_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    party: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    """The dispute's state after the step."""
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def parties(caller: ApiClient, dispute: Dispute, ds: Dataset) -> set[Party]:
    found = set()
    if dispute.client_id == caller.id:
        found.add(Party.filer)
    if permissions.member_of(caller, ds.organization):
        found.add(Party.provider)
    if permissions.is_steward(caller):
        found.add(Party.steward)
    return found


def overdue(dispute: Dispute, now: dt.datetime) -> bool:
    """Open past its deadline at ``now``."""
    return dispute.status == DisputeStatus.open.value and aware(now) > aware(dispute.due)


def _step(
    s: Session, dispute: Dispute, actor: ApiClient, party: Party, action: Action, now: dt.datetime, **detail: Any
) -> DisputeEvent:
    event = DisputeEvent(
        dispute_id=dispute.id,
        seq=len(dispute.events) + 1,
        at=now,
        actor=actor.name,
        party=party.value,
        action=action.value,
        status=dispute.status,
        detail=detail,
    )
    dispute.events.append(event)
    s.flush()
    return event


def file(
    s: Session,
    caller: ApiClient,
    contract: Contract,
    *,
    key: str,
    locator: str,
    field: str,
    claimed_value: str,
    evidence: str,
    version: int,
    now: dt.datetime,
) -> Dispute:
    """Record a dispute on a record the caller was shown (the caller's read is checked before)."""
    if not claimed_value.strip() or len(claimed_value) > MAX_VALUE_CHARS:
        raise BadParameter(f"claimed_value is 1–{MAX_VALUE_CHARS} characters", column="claimed_value")
    if not evidence.strip() or len(evidence) > MAX_EVIDENCE_CHARS:
        raise BadParameter(f"a dispute states its evidence (1–{MAX_EVIDENCE_CHARS} characters)", column="evidence")
    same = select(Dispute.id).where(
        Dispute.client_id == caller.id,
        Dispute.dataset == contract.id,
        Dispute.locator == locator,
        Dispute.field == field,
        Dispute.status == DisputeStatus.open.value,
    )
    if (earlier := s.scalar(same)) is not None:
        raise Conflict(f"you already dispute {field} of this record: dispute {earlier} is open")
    dispute = Dispute(
        id=str(uuid.uuid4()),
        dataset=contract.id,
        client_id=caller.id,
        key=key,
        locator=locator,
        field=field,
        claimed_value=claimed_value,
        evidence=evidence.strip(),
        version=version,
        status=DisputeStatus.open.value,
        created=now,
        due=working_days_after(now, contract.dispute_days),
    )
    s.add(dispute)
    s.flush()
    _step(s, dispute, caller, Party.filer, Action.file, now, field=field, version=version)
    return dispute


def _check(dispute: Dispute, actor: ApiClient, ds: Dataset, action: Action) -> tuple[DisputeStatus, Party]:
    """The state ``action`` leads to and the party the actor acts as; refused when not allowed."""
    status = DisputeStatus(dispute.status)
    rule = TRANSITIONS.get((status, action))
    if rule is None:
        raise Conflict(f"dispute {dispute.id} is {status.value}: it cannot be {action.value}ed any more")
    target, allowed = rule
    mine = parties(actor, dispute, ds) & allowed
    if not mine:
        who = " or ".join(sorted(p.value for p in allowed))
        raise Forbidden(f"only the {who} may {action.value} dispute {dispute.id}")
    return target, min(mine, key=[Party.provider, Party.steward, Party.filer].index)


def correct(
    s: Session,
    dispute: Dispute,
    actor: ApiClient,
    ds: Dataset,
    number: int,
    *,
    changed: Callable[[int, int], bool],
    now: dt.datetime,
) -> Dispute:
    """Answer "corrected in version ``number``": a published version newer than the disputed one,
    in which the record's value of the field differs (``changed(old, new)`` compares them)."""
    target, party = _check(dispute, actor, ds, Action.correct)
    found = _version(ds, number)
    if found.number <= dispute.version:
        raise BadParameter(
            f"version {number} is not newer than version {dispute.version}, the one disputed", column="version"
        )
    if not changed(dispute.version, number):
        raise BadParameter(
            f"{dispute.field} of this record is the same in version {number} as in version {dispute.version}: "
            "publish the correction first, or reject the dispute with a reason",
            column="version",
        )
    dispute.status, dispute.answered, dispute.answered_by, dispute.corrected_in = target.value, now, actor.name, number
    _step(s, dispute, actor, party, Action.correct, now, version=number)
    return dispute


def reject(s: Session, dispute: Dispute, actor: ApiClient, ds: Dataset, reason: str, *, now: dt.datetime) -> Dispute:
    target, party = _check(dispute, actor, ds, Action.reject)
    if not reason.strip():
        raise BadParameter("a rejection states its reason", column="reason")
    why = reason.strip()
    dispute.status, dispute.answered, dispute.answered_by, dispute.reason = target.value, now, actor.name, why
    _step(s, dispute, actor, party, Action.reject, now, reason=why)
    return dispute


def withdraw(s: Session, dispute: Dispute, actor: ApiClient, ds: Dataset, *, now: dt.datetime) -> Dispute:
    target, party = _check(dispute, actor, ds, Action.withdraw)
    dispute.status = target.value
    _step(s, dispute, actor, party, Action.withdraw, now)
    return dispute


def _version(ds: Dataset, number: int) -> Version:
    for v in ds.versions:
        if v.number == number:
            return v
    latest = max((v.number for v in ds.versions), default=0)
    raise BadParameter(f"dataset {ds.name} has no version {number} (the newest is {latest})", column="version")


def visible(s: Session, caller: ApiClient, dispute_id: str) -> tuple[Dispute, Dataset]:
    """The dispute if the caller filed it, provides its dataset or is a steward; else 404, as if absent."""
    from catalog import service

    dispute = s.get(Dispute, dispute_id)
    if dispute is not None:
        ds = service.dataset(s, dispute.dataset)
        if parties(caller, dispute, ds):
            return dispute, ds
    raise NotFound(f"dispute {dispute_id} not found")


def provided_by(s: Session, caller: ApiClient) -> list[str]:
    """Dataset ids of the caller's department."""
    rows = s.scalars(select(Dataset).where(Dataset.origin == "contract"))
    return [ds.key for ds in rows if permissions.member_of(caller, ds.organization)]


def listing(
    s: Session,
    *,
    client: ApiClient | None = None,
    datasets: Sequence[str] | None = None,
    dataset: str | None = None,
    status: DisputeStatus | None = None,
    overdue_at: dt.datetime | None = None,
) -> list[Dispute]:
    """Disputes, oldest deadline first: ``client``'s own, or those of ``datasets`` (a queue), or all;
    ``overdue_at``: only open ones past their deadline then."""
    q = select(Dispute).order_by(Dispute.due, Dispute.created)
    if client is not None:
        q = q.where(Dispute.client_id == client.id)
    if datasets is not None:
        q = q.where(Dispute.dataset.in_(list(datasets)))
    if dataset:
        q = q.where(Dispute.dataset == dataset)
    if status is not None:
        q = q.where(Dispute.status == status.value)
    if overdue_at is not None:
        q = q.where(Dispute.status == DisputeStatus.open.value, Dispute.due < overdue_at)
    return list(s.scalars(q))


def open_and_overdue(session: Session, dataset: str, now: dt.datetime) -> tuple[int, int]:
    """Open disputes of ``dataset`` (its id, e.g. population.residents) and, among them, those past
    their deadline at ``now``."""
    base = select(func.count()).select_from(Dispute)
    base = base.where(Dispute.dataset == dataset, Dispute.status == DisputeStatus.open.value)
    opened = session.scalar(base) or 0
    late = session.scalar(base.where(Dispute.due < aware(now))) or 0
    return int(opened), int(late)
