"""the buildings domain group is named like the contracts' domain (buildings, not building)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    conn = op.get_bind()
    taken = conn.execute(sa.text("SELECT count(*) FROM groups WHERE name = 'buildings'")).scalar()
    if not taken:
        conn.execute(sa.text("UPDATE groups SET name = 'buildings' WHERE name = 'building' AND kind = 'domain'"))


def downgrade() -> None:
    pass
