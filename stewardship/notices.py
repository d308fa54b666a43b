"""Who a contract change reaches, and the notice each of them gets.

:func:`affected_consumers` reads the live grants and subscriptions of a dataset: a grant reads the
fields it lists (all of them when it lists none), a subscription reads the whole dataset; a change
of the dataset itself (its key, sharing type, update frequency, …) reaches every one of them. A
client holding several grants or a grant and a subscription is one consumer.

:func:`notify` writes one :class:`ContractNotice` per consumer into the hub's inbox (the table
``contract_notices``), which the client reads with ``GET /api/v1/notices``. Webhook deliveries
stay notices of new versions (:mod:`exchange.subscriptions`): a contract change has no version
of the data to point to, and a grant holder has no URL. Notifying twice of the same contract
version writes nothing new.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from access import grants
from catalog.models import ApiClient, Base, utcnow
from exchange import subscriptions
from stewardship.diff import Change, Verdict


class ContractNotice(Base):
    """A client's notice that the contract of a dataset it reads changed."""

    __tablename__ = "contract_notices"
    __table_args__ = (
        UniqueConstraint("client_id", "dataset", "new_version"),
        Index("ix_contract_notices_client", "client_id", "created"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id"))
    dataset: Mapped[str] = mapped_column(String(100))
    old_version: Mapped[str] = mapped_column(String(40))
    new_version: Mapped[str] = mapped_column(String(40))
    impact: Mapped[str] = mapped_column(String(20))
    migration_date: Mapped[dt.date | None] = mapped_column(Date)
    changes: Mapped[list[Any]] = mapped_column(JSON)
    """The changes that reach this client (kind, field, before, after, impact, rule)."""
    reads_through: Mapped[list[Any]] = mapped_column(JSON)
    """How the client reads the dataset: ``grant <id>``, ``subscription <id>``."""
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Consumer(BaseModel):
    """A client that reads what changed."""

    client_id: str
    client: str
    organization: str | None
    grants: list[str]
    subscriptions: list[str]
    fields: list[str] | None
    """The fields it reads (None: the whole dataset)."""
    changes: list[Change]
    """The changes that reach it."""

    @property
    def reads_through(self) -> list[str]:
        return [f"grant {g}" for g in self.grants] + [f"subscription {x}" for x in self.subscriptions]


def reaches(change: Change, fields: set[str] | None) -> bool:
    """Does ``change`` reach a reader of ``fields`` (None: every field)?"""
    return change.field is None or fields is None or change.field in fields


def _merge(held: set[str] | None, more: set[str] | None) -> set[str] | None:
    return None if held is None or more is None else held | more


def affected_consumers(s: Session, dataset: str, changes: Sequence[Change]) -> list[Consumer]:
    """The clients whose live grants or subscriptions on ``dataset`` read a changed field."""
    reading: dict[str, tuple[list[str], list[str], set[str] | None]] = {}
    for g in grants.listing(s, dataset=dataset, live_only=True):
        held = reading.get(g.client_id)
        fields = set(g.fields) if g.fields else None
        if held is None:
            reading[g.client_id] = ([g.id], [], fields)
        else:
            reading[g.client_id] = ([*held[0], g.id], held[1], _merge(held[2], fields))
    for sub in subscriptions.listing(s, dataset=dataset, active_only=True):
        held = reading.get(sub.client_id, ([], [], set()))
        reading[sub.client_id] = (held[0], [*held[1], sub.id], None)
    out: list[Consumer] = []
    for client_id, (grant_ids, sub_ids, fields) in reading.items():
        hit = [c for c in changes if reaches(c, fields)]
        client = s.get(ApiClient, client_id)
        if not hit or client is None:
            continue
        out.append(
            Consumer(
                client_id=client_id,
                client=client.name,
                organization=client.organization,
                grants=grant_ids,
                subscriptions=sub_ids,
                fields=sorted(fields) if fields is not None else None,
                changes=hit,
            )
        )
    return sorted(out, key=lambda c: c.client)


def notify(
    s: Session, dataset: str, verdict: Verdict, consumers: Sequence[Consumer], *, now: dt.datetime | None = None
) -> list[ContractNotice]:
    """A notice of ``verdict`` (old → new version of ``dataset``) to each consumer; the ones written
    (a consumer already told of this version is not told again)."""
    told = set(
        s.scalars(
            select(ContractNotice.client_id).where(
                ContractNotice.dataset == dataset, ContractNotice.new_version == verdict.new_version
            )
        )
    )
    written: list[ContractNotice] = []
    for consumer in consumers:
        if consumer.client_id in told:
            continue
        notice = ContractNotice(
            id=str(uuid.uuid4()),
            client_id=consumer.client_id,
            dataset=dataset,
            old_version=verdict.old_version,
            new_version=verdict.new_version,
            impact=(verdict.impact.value if verdict.impact else "none"),
            migration_date=verdict.migration_date,
            changes=[c.model_dump(mode="json") for c in consumer.changes],
            reads_through=consumer.reads_through,
            created=now or utcnow(),
        )
        s.add(notice)
        told.add(consumer.client_id)
        written.append(notice)
    s.flush()
    return written


def inbox(s: Session, client: ApiClient, *, dataset: str | None = None, limit: int = 100) -> list[ContractNotice]:
    """The client's notices, newest first."""
    q = select(ContractNotice).where(ContractNotice.client_id == client.id)
    if dataset:
        q = q.where(ContractNotice.dataset == dataset)
    return list(s.scalars(q.order_by(ContractNotice.created.desc()).limit(limit)))
