"""Alembic environment: runs on the connection handed over by ``catalog.db.migrate``."""

from alembic import context
from sqlalchemy import create_engine

from catalog.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    with create_engine(str(config.get_main_option("sqlalchemy.url"))).begin() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
