"""A counter of catalogue changes, raised by triggers on every write to the rows requests authorize by

Revision ID: 0013_catalogue_changes
Revises: 0012_disputes
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0013_catalogue_changes"
down_revision = "0012_disputes"

WATCHED = ("organizations", "datasets", "versions", "resources", "api_clients", "api_keys", "grants")
"""Tables whose rows :mod:`catalog.cache` keeps between requests (see its docstring)."""


def upgrade() -> None:
    op.create_table(
        "catalogue_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("epoch", sa.String(32), nullable=False),
    )
    # the epoch tells this database from another at the same URL (dropped and made again)
    op.execute(f"INSERT INTO catalogue_changes (id, n, epoch) VALUES (1, 0, '{uuid.uuid4().hex}')")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION hub_catalogue_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN UPDATE catalogue_changes SET n = n + 1 WHERE id = 1; RETURN NULL; END $$"
        )
        for table in WATCHED:
            op.execute(
                f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION hub_catalogue_changed()"
            )
        return
    for table in WATCHED:
        for change in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_{change.lower()}_changed AFTER {change} ON {table} "
                "BEGIN UPDATE catalogue_changes SET n = n + 1 WHERE id = 1; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER {table}_changed ON {table}")
        op.execute("DROP FUNCTION hub_catalogue_changed()")
    else:
        for table in WATCHED:
            for change in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{change}_changed")
    op.drop_table("catalogue_changes")
