"""Alembic's environment, run inside bot.schema_migrations: the caller's connection and transaction are used, so
the whole upgrade happens under the caller's advisory lock and commits or rolls back as one."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
target = context.config.attributes.get("target_metadata")  # only when autogenerating a new revision
# Batch mode lets later revisions ALTER tables on SQLite (it recreates the table), a no-op on PostgreSQL.
context.configure(connection=connection, target_metadata=target, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
