"""The whole schema: each feature declares its tables on `bot.db.metadata`; this module knows them all, and brings
the database to it through the migrations in bot/migrations."""

from __future__ import annotations

import sys
import tempfile

from alembic import command
from sqlalchemy import Engine, MetaData

from bot import db
from bot import store as export_store
from bot.background import claims as work_claims
from bot.background import leases
from bot.background import targets as work_targets
from bot.catalog import store as catalog_store
from bot.db import make_engine
from bot.drills import store as drill_store
from bot.exports import reference as export_references
from bot.recovery import store as recovery_store
from bot.restores import load_checkpoints
from bot.restores import store as restore_store
from bot.retention import store as retention_store
from bot.schedules import store as schedule_store
from bot.schema_migrations import SchemaState, alembic_config, head_revision, migrate
from bot.verification import store as verification_store

# Importing a store module registers its tables; the tuple names them so the imports are used on purpose.
TABLE_MODULES = (
    export_store,
    export_references,
    verification_store,
    drill_store,
    leases,
    work_claims,
    work_targets,
    load_checkpoints,
    restore_store,
    recovery_store,
    schedule_store,
    catalog_store,
    retention_store,
)


def schema_metadata() -> MetaData:
    """The MetaData holding every table of every feature."""
    return db.metadata


def create_schema(engine: Engine) -> SchemaState:
    """Bring the database to this code's schema through its migrations (one replica at a time); the MetaData above is
    what the migrations must produce, which tests/unit/test_schema_migrations.py checks."""
    return migrate(engine)


def new_revision(message: str) -> None:
    """`make migration MESSAGE=...`: a new revision in bot/migrations/versions/, generated from what the code
    declares against a scratch database at the current head (review and edit it before committing)."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/scratch.sqlite3")
        migrate(engine)
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes.update(connection=connection, target_metadata=schema_metadata())
            command.revision(config, message=message, autogenerate=True, rev_id=f"{int(head_revision()) + 1:04d}")
        engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m bot.wiring.schema revision "what changes"')
    new_revision(sys.argv[2])
