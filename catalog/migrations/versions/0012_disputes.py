"""校核 disputes (client x dataset x record x field x claimed value x evidence x deadline) and their events

Revision ID: 0012_disputes
Revises: 0011_contract_notices
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_disputes"
down_revision = "0011_contract_notices"


def upgrade() -> None:
    op.create_table(
        "disputes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("dataset", sa.String(100), nullable=False),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("api_clients.id"), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("locator", sa.String(64), nullable=False),
        sa.Column("field", sa.String(100), nullable=False),
        sa.Column("claimed_value", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered", sa.DateTime(timezone=True)),
        sa.Column("answered_by", sa.String(100)),
        sa.Column("corrected_in", sa.Integer),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_disputes_dataset", "disputes", ["dataset"])
    op.create_index("ix_disputes_dataset_status_due", "disputes", ["dataset", "status", "due"])
    op.create_table(
        "dispute_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dispute_id", sa.String(36), sa.ForeignKey("disputes.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("party", sa.String(20), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.UniqueConstraint("dispute_id", "seq"),
    )
    op.create_index("ix_dispute_events_dispute_id", "dispute_events", ["dispute_id"])


def downgrade() -> None:
    op.drop_index("ix_dispute_events_dispute_id", "dispute_events")
    op.drop_table("dispute_events")
    op.drop_index("ix_disputes_dataset_status_due", "disputes")
    op.drop_index("ix_disputes_dataset", "disputes")
    op.drop_table("disputes")
