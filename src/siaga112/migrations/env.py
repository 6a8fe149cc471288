"""Alembic environment: runs on the connection `siaga112.bootstrap.migrate` hands over."""
from alembic import context

import siaga112.models  # noqa: F401  registers every table on the metadata
from siaga112.db import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
