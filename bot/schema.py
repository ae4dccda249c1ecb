"""Imports every module that declares tables, so `create_schema` sees them all."""

from bot import load_checkpoints, restore_store, store  # noqa: F401
