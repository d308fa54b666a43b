"""rate limits per grant and per client (requests per minute, rows per day)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    for table in ("grants", "api_clients"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("requests_per_minute", sa.Integer, nullable=True))
            batch.add_column(sa.Column("rows_per_day", sa.BigInteger, nullable=True))


def downgrade() -> None:
    for table in ("api_clients", "grants"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("rows_per_day")
            batch.drop_column("requests_per_minute")
