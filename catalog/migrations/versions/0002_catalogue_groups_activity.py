"""catalogue: groups, activity, catalogue-only datasets, resource codes, search text

Revision ID: 0002
Revises: 0001
"""

import datetime as dt
import json
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

# The same namespace and names as catalog.service.stable_id, inlined so this file never changes
# when the application code does.
NAMESPACE = uuid.UUID("6f1c7a52-4e0b-5d43-9a57-0b7f1d2c3e41")
DOMAINS = [
    ("population", "人口", "Population", "人口基础信息资源。Population base data.", "01"),
    ("legal_entity", "法人单位", "Legal entities", "法人单位基础信息资源。Legal-entity base data.", "02"),
    ("spatial", "自然资源和空间地理", "Natural resources and spatial geography", "空间地理基础信息资源。", "03"),
    ("economy", "宏观经济", "Economy", "经济运行信息资源。Economic data.", "06"),
    ("buildings", "建筑物", "Buildings", "楼宇与房屋信息资源。Buildings and premises.", "07"),
]


def _json(default: str) -> dict:
    return {"nullable": False, "server_default": sa.text(f"'{default}'")}


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "dataset_groups",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dataset_id", "group_id"),
    )
    op.create_table(
        "activities",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("user_name", sa.String(length=100), nullable=True),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("activity_type", sa.String(length=50), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_activities_object", "activities", ["object_id", "timestamp"])
    op.add_column("datasets", sa.Column("origin", sa.String(length=20), nullable=False, server_default="contract"))
    op.add_column("datasets", sa.Column("resource_code", sa.String(length=40), nullable=True))
    op.create_index("ix_datasets_resource_code", "datasets", ["resource_code"], unique=True)
    op.add_column("datasets", sa.Column("sharing_condition", sa.Text(), nullable=True))
    op.add_column("datasets", sa.Column("related_codes", sa.JSON(), **_json("[]")))
    op.add_column("datasets", sa.Column("extras", sa.JSON(), **_json("[]")))
    op.add_column("datasets", sa.Column("meta", sa.JSON(), **_json("{}")))
    op.add_column("datasets", sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    op.add_column("resources", sa.Column("generated", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("resources", sa.Column("extra", sa.JSON(), **_json("{}")))
    op.add_column("resources", sa.Column("modified", sa.DateTime(timezone=True), nullable=True))
    _seed_domain_groups()
    _backfill_datasets()


def _seed_domain_groups() -> None:
    groups = sa.table(
        "groups",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("title", sa.String),
        sa.column("title_en", sa.String),
        sa.column("description", sa.Text),
        sa.column("kind", sa.String),
        sa.column("created", sa.DateTime(timezone=True)),
    )
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "id": str(uuid.uuid5(NAMESPACE, f"group/{name}")),
            "name": name,
            "title": title,
            "title_en": title_en,
            "description": description,
            "kind": "domain",
            "created": now,
        }
        for name, title, title_en, description, _ in DOMAINS
    ]
    op.bulk_insert(groups, rows)


def _backfill_datasets() -> None:
    """Datasets registered before this revision: domain group, resource code and search text."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, domain, title, title_en, notes, tags, fields FROM datasets ORDER BY created")
    ).all()
    items = {name: item for name, *_, item in DOMAINS}
    seq: dict[str, int] = {}
    for row in rows:
        item = items.get(row.domain)
        prefix = f"1{item}" if item else "300"
        seq[prefix] = seq.get(prefix, 0) + 1
        tags = row.tags if isinstance(row.tags, list) else json.loads(row.tags or "[]")
        fields = row.fields if isinstance(row.fields, list) else json.loads(row.fields or "[]")
        words = [row.title, row.title_en or "", row.notes, *tags]
        words += [f"{f.get('name', '')} {f.get('title', '')}" for f in fields]
        conn.execute(
            sa.text("UPDATE datasets SET resource_code = :code, search_text = :text WHERE id = :id"),
            {"code": f"{prefix}/{seq[prefix]:06d}", "text": " ".join(words).lower(), "id": row.id},
        )
        if item:
            group_id = str(uuid.uuid5(NAMESPACE, f"group/{row.domain}"))
            conn.execute(
                sa.text("INSERT INTO dataset_groups (dataset_id, group_id) VALUES (:d, :g)"),
                {"d": row.id, "g": group_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        for column in ("modified", "extra", "generated"):
            batch.drop_column(column)
    op.drop_index("ix_datasets_resource_code", table_name="datasets")
    with op.batch_alter_table("datasets") as batch:
        for column in ("search_text", "meta", "extras", "related_codes", "sharing_condition"):
            batch.drop_column(column)
        batch.drop_column("resource_code")
        batch.drop_column("origin")
    op.drop_index("ix_activities_object", table_name="activities")
    op.drop_table("activities")
    op.drop_table("dataset_groups")
    op.drop_table("groups")
