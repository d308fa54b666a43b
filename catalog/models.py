"""Metadata database tables: departments, datasets, resources, versions, files, API clients."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(when: dt.datetime) -> dt.datetime:
    """A stored time as UTC-aware (SQLite hands timestamps back without their zone)."""
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


dataset_groups = Table(
    "dataset_groups",
    Base.metadata,
    Column("dataset_id", ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)


class Organization(Base):
    """A department (CKAN organization)."""

    __tablename__ = "organizations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    datasets: Mapped[list[Dataset]] = relationship(back_populates="organization")


class Dataset(Base):
    """A dataset (CKAN package); its metadata is derived from the contract."""

    __tablename__ = "datasets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    domain: Mapped[str] = mapped_column(String(50))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    contract_version: Mapped[str] = mapped_column(String(30))
    sharing_type: Mapped[str] = mapped_column(String(20))
    open_type: Mapped[str] = mapped_column(String(20))
    update_frequency: Mapped[str] = mapped_column(String(30))
    licence: Mapped[str | None] = mapped_column(String(200))
    steward: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    fields: Mapped[list[Any]] = mapped_column(default=list)
    private: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(20), default="active")
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    modified: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    origin: Mapped[str] = mapped_column(String(20), default="contract")
    """``contract`` (registered from a data contract) or ``catalogue`` (created with package_create)."""
    resource_code: Mapped[str | None] = mapped_column(String(40), unique=True, index=True)
    """信息资源代码, assigned once by ``catalog.profile.assign_code`` and never changed."""
    sharing_condition: Mapped[str | None] = mapped_column(Text)
    related_codes: Mapped[list[Any]] = mapped_column(default=list)
    extras: Mapped[list[Any]] = mapped_column(default=list)
    """Free CKAN extras ``[{key, value}]`` (keys the hub does not type)."""
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Free CKAN core fields and supplied catalogue elements of catalogue-only datasets."""
    search_text: Mapped[str] = mapped_column(Text, default="")
    """Lower-cased text searched by package_search (see ``catalog.search``)."""
    organization: Mapped[Organization] = relationship(back_populates="datasets")
    resources: Mapped[list[Resource]] = relationship(
        back_populates="dataset", order_by="Resource.position", cascade="all, delete-orphan"
    )
    versions: Mapped[list[Version]] = relationship(back_populates="dataset", order_by="Version.number")
    groups: Mapped[list[Group]] = relationship(secondary=dataset_groups, order_by="Group.name")

    @property
    def from_contract(self) -> bool:
        return self.origin == "contract"


class Resource(Base):
    """A way to get the data (CKAN resource): the records API, the Parquet table, ..."""

    __tablename__ = "resources"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(30))
    url: Mapped[str] = mapped_column(String(500))
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    generated: Mapped[bool] = mapped_column(Boolean, default=False)
    """Made from the contract (records API, Iceberg table): not editable through the API."""
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """url_type, mimetype, size, upload details and free CKAN resource fields."""
    modified: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    dataset: Mapped[Dataset] = relationship(back_populates="resources")


class Group(Base):
    """A CKAN group: one of the base-data domains (``kind`` domain) or a theme."""

    __tablename__ = "groups"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default="theme")
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    datasets: Mapped[list[Dataset]] = relationship(secondary=dataset_groups, viewonly=True)


class Activity(Base):
    """One change to a dataset (CKAN activity stream), newest listed first."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_object", "object_id", "timestamp"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    timestamp: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[str | None] = mapped_column(String(36))
    user_name: Mapped[str | None] = mapped_column(String(100))
    object_id: Mapped[str] = mapped_column(String(36))
    activity_type: Mapped[str] = mapped_column(String(50))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Version(Base):
    """One accepted publish: one Iceberg snapshot."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("dataset_id", "number"), UniqueConstraint("dataset_id", "snapshot_id"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"))
    number: Mapped[int] = mapped_column(Integer)
    snapshot_id: Mapped[int] = mapped_column(BigInteger)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    row_count: Mapped[int] = mapped_column(BigInteger)
    rows_rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    source_file: Mapped[str] = mapped_column(String(500))
    source_sha256: Mapped[str] = mapped_column(String(64))
    quality: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lineage: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dataset: Mapped[Dataset] = relationship(back_populates="versions")


class IngestedFile(Base):
    """Ledger of every file received, so a file is processed once and its fate is known."""

    __tablename__ = "ingested_files"
    __table_args__ = (UniqueConstraint("dataset_key", "sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_key: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_accepted: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    report_dir: Mapped[str | None] = mapped_column(String(500))
    version_id: Mapped[str | None] = mapped_column(ForeignKey("versions.id"))
    message: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str | None] = mapped_column(String(100))
    """The client whose upload brought the file (None: dropped into the inbox folder by the department)."""


class Upload(Base):
    """One accepted upload: the client that sent it, where it went, its hash and size."""

    __tablename__ = "uploads"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id"))
    dataset_id: Mapped[str] = mapped_column(String(36))
    resource_id: Mapped[str | None] = mapped_column(String(36))
    file: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (Index("ix_uploads_client_received", "client_id", "received_at"),)


class ApiClient(Base):
    """A caller: an application or a person, belonging to an organization, with a role."""

    __tablename__ = "api_clients"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    organization: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    requests_per_minute: Mapped[int | None] = mapped_column(Integer)
    rows_per_day: Mapped[int | None] = mapped_column(BigInteger)
    """The client's own rate limits (None: the hub's defaults); a grant's limits win on its dataset."""
    keys: Mapped[list[ApiKey]] = relationship(back_populates="client")


class ApiKey(Base):
    """An API key, stored as its SHA-256 only; ``prefix`` lets people tell keys apart."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id"))
    label: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    minted_by: Mapped[str | None] = mapped_column(String(36))
    """The key (id) whose holder created this one through the API; revoking it revokes this too."""
    client: Mapped[ApiClient] = relationship(back_populates="keys")
