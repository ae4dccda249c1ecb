"""Imports every module that declares tables, so `create_schema` sees them all."""

from bot import (  # noqa: F401
    leases,
    load_checkpoints,
    restore_store,
    schedule_store,
    store,
)
