"""contract notices: a client's inbox of changes to the contracts of datasets it reads

Revision ID: 0011_contract_notices
Revises: 0010_contract_versions
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_contract_notices"
down_revision = "0010_contract_versions"


def upgrade() -> None:
    op.create_table(
        "contract_notices",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("api_clients.id"), nullable=False),
        sa.Column("dataset", sa.String(100), nullable=False),
        sa.Column("old_version", sa.String(40), nullable=False),
        sa.Column("new_version", sa.String(40), nullable=False),
        sa.Column("impact", sa.String(20), nullable=False),
        sa.Column("migration_date", sa.Date),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("reads_through", sa.JSON, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("client_id", "dataset", "new_version"),
    )
    op.create_index("ix_contract_notices_client", "contract_notices", ["client_id", "created"])


def downgrade() -> None:
    op.drop_index("ix_contract_notices_client", "contract_notices")
    op.drop_table("contract_notices")
