"""access requests and grants (client x dataset x fields x clear fields x row filter x purpose x expiry)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "access_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("api_clients.id"), nullable=False),
        sa.Column("dataset", sa.String(100), nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("clear_fields", sa.JSON, nullable=False),
        sa.Column("row_filter", sa.Text),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("legal_basis", sa.Text, nullable=False),
        sa.Column("wanted_until", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.String(100)),
        sa.Column("reason", sa.Text),
        sa.Column("grant_id", sa.String(36)),
    )
    op.create_index("ix_access_requests_status", "access_requests", ["status", "created"])
    op.create_table(
        "grants",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("api_clients.id"), nullable=False),
        sa.Column("dataset", sa.String(100), nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("clear_fields", sa.JSON, nullable=False),
        sa.Column("row_filter", sa.Text),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("legal_basis", sa.Text),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.DateTime(timezone=True)),
        sa.Column("granted_by", sa.String(100), nullable=False),
        sa.Column("request_id", sa.String(36)),
    )
    op.create_index("ix_grants_client_dataset", "grants", ["client_id", "dataset"])


def downgrade() -> None:
    op.drop_index("ix_grants_client_dataset", "grants")
    op.drop_table("grants")
    op.drop_index("ix_access_requests_status", "access_requests")
    op.drop_table("access_requests")
