"""every accepted upload: who sent which file where, and how big (attribution and quotas)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("api_clients.id"), nullable=False),
        sa.Column("dataset_id", sa.String(36), nullable=False),
        sa.Column("resource_id", sa.String(36), nullable=True),
        sa.Column("file", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_uploads_client_received", "uploads", ["client_id", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_uploads_client_received", "uploads")
    op.drop_table("uploads")
