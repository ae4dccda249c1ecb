"""The whole schema: each feature declares its tables on `bot.db.metadata`; this module knows them all."""

from __future__ import annotations

from sqlalchemy import Engine, MetaData

from bot import db
from bot import store as export_store
from bot.background import leases
from bot.restores import load_checkpoints
from bot.restores import store as restore_store
from bot.schedules import store as schedule_store

# Importing a store module registers its tables; the tuple names them so the imports are used on purpose.
TABLE_MODULES = (export_store, leases, load_checkpoints, restore_store, schedule_store)


def schema_metadata() -> MetaData:
    """The MetaData holding every table of every feature."""
    return db.metadata


def create_schema(engine: Engine) -> None:
    """Create every table that does not exist yet, one replica at a time."""
    db.create_tables(engine, schema_metadata())
