"""the audit log: hash-chained records of every data-returning call, its head, signed anchors

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.String(36)),
        sa.Column("client", sa.String(100)),
        sa.Column("organization", sa.String(100)),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("dataset", sa.String(100)),
        sa.Column("version", sa.Integer),
        sa.Column("snapshot_id", sa.String(40)),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("clear_fields", sa.JSON, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("purpose", sa.Text),
        sa.Column("request_id", sa.String(64)),
        sa.Column("query_hash", sa.String(64)),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_client", "audit_log", ["client", "seq"])
    op.create_index("ix_audit_log_dataset", "audit_log", ["dataset", "seq"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')")
    op.create_table(
        "audit_anchors",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_anchors")
    op.drop_table("audit_head")
    op.drop_index("ix_audit_log_dataset", "audit_log")
    op.drop_index("ix_audit_log_client", "audit_log")
    op.drop_table("audit_log")
