"""The migrations build exactly the code's schema, run once with replicas starting together, and refuse a newer
database; on SQLite and on PostgreSQL (when a server is given)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from bot.db import make_engine
from bot.schema_migrations import BASELINE, SchemaTooNew, head_revision, migrate, schema_state
from bot.wiring.schema import schema_metadata
from tests.support.databases import database_kinds, fresh_database
from tests.support.schema_before_migrations import BEFORE


@pytest.fixture(params=database_kinds())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with fresh_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), schema_metadata()))


def test_the_migrations_build_exactly_the_schema_the_code_declares(engine: Engine) -> None:
    state = migrate(engine)
    assert state.current == head_revision() and state.up_to_date
    assert differences(engine) == []  # a table or column added to the code without a migration fails here


def test_a_database_made_before_migrations_is_recognised_and_upgraded(engine: Engine) -> None:
    BEFORE.create_all(engine)
    state = migrate(engine)
    assert state.up_to_date
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()
    assert differences(engine) == []


def test_migrating_twice_changes_nothing_and_replicas_may_migrate_together(engine: Engine) -> None:
    with ThreadPoolExecutor(4) as pool:
        states = list(pool.map(lambda _: migrate(engine), range(4)))
    assert all(s.up_to_date for s in states)
    assert migrate(engine).current == head_revision()
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [head_revision()]


def test_a_database_newer_than_the_code_is_refused_and_left_alone(engine: Engine) -> None:
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff-from-the-future'"))
    with pytest.raises(SchemaTooNew, match="ffff-from-the-future") as refused:
        migrate(engine)
    assert "newer release" in str(refused.value)
    assert schema_state(engine).current == "ffff-from-the-future"
    assert inspect(engine).has_table("exports")


def test_the_baseline_is_the_first_revision() -> None:
    assert BASELINE == "0001"
