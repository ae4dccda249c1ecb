"""A fresh database per test: SQLite always, PostgreSQL too when DDBBOT_TEST_POSTGRES_URL names a server.

Each PostgreSQL test gets its own database (created from the one in the URL, dropped afterwards), so tests can
run in parallel workers against one server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bot.db import make_engine
from bot.wiring.schema import create_schema
from tests.support.postgres_cluster import HOW_TO

POSTGRES_ENV = "DDBBOT_TEST_POSTGRES_URL"


def database_kinds() -> list[object]:
    """Parameters for tests that run on every supported database; PostgreSQL is skipped, saying why, without a server."""
    if os.environ.get(POSTGRES_ENV):
        return ["sqlite", "postgresql"]
    reason = f"{POSTGRES_ENV} is not set: {HOW_TO}"
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.skip(reason=reason))]


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of that kind, gone after the block."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    admin_url = os.environ[POSTGRES_ENV]
    name = f"ddbbot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_driver(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def schema_engine(kind: str, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a fresh database of that kind with the whole schema, disposed after the block."""
    with fresh_database(kind, tmp_path) as url:
        engine = make_engine(url)
        create_schema(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def _driver(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]
