"""keys expire and remember the key that minted them; uploaded files remember who submitted them

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("minted_by", sa.String(36), nullable=True))
    with op.batch_alter_table("ingested_files") as batch:
        batch.add_column(sa.Column("submitted_by", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingested_files") as batch:
        batch.drop_column("submitted_by")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("minted_by")
        batch.drop_column("expires_at")
