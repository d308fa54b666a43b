"""the contract registry: every version of every dataset's contract, and every step of its lifecycle

Revision ID: 0010_contract_versions
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_contract_versions"
down_revision = "0009"


def upgrade() -> None:
    op.create_table(
        "contract_versions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("dataset", sa.String(100), nullable=False),
        sa.Column("version", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("department", sa.String(100), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("proposed_by", sa.String(100), nullable=False),
        sa.Column("decided_by", sa.String(100)),
        sa.Column("reason", sa.Text),
        sa.Column("migration_date", sa.Date),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("dataset", "version"),
    )
    op.create_index("ix_contract_versions_dataset", "contract_versions", ["dataset"])
    op.create_table(
        "contract_steps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset", sa.String(100), nullable=False),
        sa.Column("version", sa.String(30), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20)),
        sa.Column("target", sa.String(20), nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_contract_steps_dataset", "contract_steps", ["dataset"])


def downgrade() -> None:
    op.drop_index("ix_contract_steps_dataset", "contract_steps")
    op.drop_table("contract_steps")
    op.drop_index("ix_contract_versions_dataset", "contract_versions")
    op.drop_table("contract_versions")
