"""The migrations build exactly the code's schema, run once with replicas starting together, and refuse a newer
database; on SQLite and on PostgreSQL (when a server is given)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, insert, inspect, text

from bot.background.claims import ClaimStore
from bot.db import make_engine
from bot.schema_migrations import BASELINE, SchemaTooNew, alembic_config, head_revision, migrate, schema_state
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


def test_an_upgrade_moves_the_work_in_flight_into_claimed_work_and_leaves_finished_work_alone(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")  # the release before claimed work
        old = MetaData()
        old.reflect(connection)
        for table, rows in in_flight_rows().items():
            connection.execute(insert(old.tables[table]), rows)
    migrate(engine)

    items = {(i.kind, i.key): i for i in ClaimStore(engine, stale_after=timedelta(minutes=5), max_attempts=5).items()}
    claimed_fire = f"nightly@{T0:%Y-%m-%dT%H:%M:%SZ}"
    with engine.connect() as connection:
        runs = {row.state: row.id for row in connection.execute(text("SELECT id, state FROM schedule_runs"))}
        notes = connection.execute(text("SELECT notify_state FROM exports ORDER BY export_arn")).scalars().all()
    assert set(items) == {
        ("restore", "r-approved"),
        ("restore", "r-running"),
        ("verification", "v-queued"),
        ("verification", "v-running"),
        ("drill", "d-running"),
        ("fire", claimed_fire),
        ("fanout", str(runs["started"])),
        ("note", f"run:{runs['failed']}"),
        ("note", f"export:{ARN}-done"),
    }
    assert all(item.state == "ready" and item.attempts == 0 for item in items.values())
    assert items[("fire", claimed_fire)].payload == {
        "schedule_id": "nightly",
        "fire_time": T0.isoformat(),
        "run_kind": "catch-up",
        "requested_by": None,
    }
    assert notes == ["pending", "pending"], "a note some poster held is owed again, not half sent"


T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/01796000000000-0a1b2c3d"


def in_flight_rows() -> dict[str, list[dict[str, Any]]]:
    """What the release before claimed work left in a database while work was under way (and some finished)."""

    def restore(request_id: str, status: str) -> dict[str, Any]:
        return {
            "id": request_id,
            "status": status,
            "mode": "pitr",
            "plan": {},
            "plan_hash": "x",
            "target_table": "t",
            "region": "us-east-1",
            "requested_by": "U0ALICE",
            "sources": [],
            "required_approvals": 1,
            "created_at": T0,
            "expires_at": T0,
            "result": {},
            "updated_at": T0,
            "runner": "old-replica",
        }

    def verification(verification_id: str, status: str) -> dict[str, Any]:
        counts = {"files": 0, "items": 0, "bytes": 0, "seconds": 0.0, "failure_count": 0, "attempts": 1}
        return {"id": verification_id, "export_id": "e", "target": {}, "status": status, "requested_by": "U0ALICE",
                "created_at": T0, "failures": [], "notes": "", **counts}  # fmt: skip

    def drill(drill_id: str, status: str) -> dict[str, Any]:
        return {"id": drill_id, "table_key": "orders", "spec": {}, "status": status, "requested_by": "U0ALICE",
                "attempts": 1, "created_at": T0, "result": {}}  # fmt: skip

    def run(state: str, fire_time: datetime, note_state: str, plan_note: str | None = None) -> dict[str, Any]:
        return {"schedule_id": "nightly", "fire_time": fire_time, "kind": "catch-up", "state": state,
                "holder": "old-replica", "claimed_at": T0, "note_state": note_state, "late": False,
                "updated_at": T0, "plan_note": plan_note}  # fmt: skip

    def export(suffix: str, status: str, notify_state: str) -> dict[str, Any]:
        return {"export_arn": ARN + suffix, "export_id": "01796000000000-0a1b2c3d", "table_key": "orders",
                "table_name": "orders", "table_arn": "arn:t", "region": "us-east-1", "status": status,
                "export_type": "FULL_EXPORT", "export_format": "DYNAMODB_JSON", "bucket": "b", "s3_prefix": "p",
                "requested_by": "U0ALICE", "table_snapshot": {}, "notify_state": notify_state, "created_at": T0,
                "updated_at": T0}  # fmt: skip

    return {
        "restore_requests": [
            restore("r-approved", "APPROVED"),
            restore("r-running", "RUNNING"),
            restore("r-done", "SUCCEEDED"),
            restore("r-waiting", "PENDING"),
        ],
        "verifications": [
            verification("v-queued", "queued"),
            verification("v-running", "running"),
            verification("v-done", "passed"),
        ],
        "drills": [drill("d-running", "running"), drill("d-done", "failed")],
        "schedule_runs": [
            run("claimed", T0, "none"),
            run("started", T0 - timedelta(hours=1), "sent", 'queued:["prod:a"]'),
            run("failed", T0 - timedelta(hours=2), "sending"),
            run("skipped", T0 - timedelta(hours=3), "sent"),
        ],
        "exports": [export("-done", "COMPLETED", "sending"), export("-running", "IN_PROGRESS", "pending")],
    }
