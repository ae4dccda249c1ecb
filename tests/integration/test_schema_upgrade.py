"""Upgrading an installation: a database made by the code before migrations existed, full of rows, is migrated
by the new bot at start, and every row is still there and usable (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert

from bot.background.leases import LeaseStore
from bot.restores.load_checkpoints import SqlLoadCheckpoints
from bot.restores.models import RestorePlan, RestoreStatus
from bot.restores.store import RestoreStore
from bot.schedules.store import ScheduleStore
from bot.schema_migrations import head_revision, schema_state
from tests.integration.conftest import OPS, SIGNING_SECRET, BotFactory
from tests.support.databases import database_kinds, fresh_database
from tests.support.schema_before_migrations import BEFORE
from tests.support.slack_requests import SignedSlackClient

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
EXPORT_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/01796000000000-0a1b2c3d"
PLAN = json.loads(
    '{"account":{"alias":null,"region":"us-east-1"},"mode":"pitr","options":{"restore_time":"latest",'
    '"source_table":{"alias":null,"arn":"arn:aws:dynamodb:us-east-1:123456789012:table/orders","name":"orders",'
    '"region":"us-east-1"}},"sources":["arn:aws:dynamodb:us-east-1:123456789012:table/orders"],'
    '"target":"orders-restored"}'
)


@pytest.fixture(params=database_kinds())
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database built and filled the way the code before migrations left it."""
    with fresh_database(request.param, tmp_path) as url:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        BEFORE.create_all(engine)
        with engine.begin() as connection:
            for table, rows in old_rows().items():
                connection.execute(insert(BEFORE.tables[table]), rows)
        engine.dispose()
        yield url


def old_rows() -> dict[str, list[dict[str, Any]]]:
    plan_hash = RestorePlan.from_dict(PLAN).digest()
    return {
        "exports": [
            {
                "export_arn": EXPORT_ARN,
                "export_id": "01796000000000-0a1b2c3d",
                "table_key": "orders",
                "table_name": "orders",
                "table_arn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
                "region": "us-east-1",
                "status": "COMPLETED",
                "export_type": "FULL_EXPORT",
                "export_format": "DYNAMODB_JSON",
                "bucket": "acme-ddb-backups",
                "s3_prefix": "dynamodb-exports/orders/20261130T020000Z",
                "requested_by": "U0ALICE",
                "item_count": 3,
                "billed_size_bytes": 1234,
                "started_at": T0,
                "ended_at": T0 + timedelta(minutes=6),
                "table_snapshot": {},
                "notify_state": "sent",
                "created_at": T0,
                "updated_at": T0,
            }
        ],
        "audit_log": [
            {
                "at": T0,
                "actor": "U0ALICE",
                "action": "export.start",
                "target": "orders",
                "parameters": "{}",
                "result": "started 01796000000000-0a1b2c3d",
            }
        ],
        "restore_requests": [
            {
                "id": "r-00000000aa",
                "status": "SUCCEEDED",
                "mode": "pitr",
                "plan": PLAN,
                "plan_hash": plan_hash,
                "target_table": "orders-restored",
                "region": "us-east-1",
                "requested_by": "U0ALICE",
                "sources": [],
                "required_approvals": 1,
                "created_at": T0,
                "expires_at": T0 + timedelta(hours=1),
                "result": {},
                "updated_at": T0,
            }
        ],
        "restore_approvals": [{"request_id": "r-00000000aa", "approver": "U0BOB", "at": T0}],
        "schedules": [
            {
                "id": "orders-1a2b",
                "table_text": "orders",
                "table_key": "orders",
                "cron": "0 2 * * *",
                "timezone": "UTC",
                "export_type": "full",
                "options": {},
                "source": "slack",
                "paused": True,
                "created_by": "U0ALICE",
                "created_at": T0,
                "active_since": T0,
                "updated_at": T0,
                "version": 1,
            }
        ],
        "schedule_runs": [
            {
                "schedule_id": "orders-1a2b",
                "fire_time": T0,
                "kind": "scheduled",
                "state": "started",
                "holder": "old-replica",
                "claimed_at": T0,
                "export_arn": EXPORT_ARN,
                "note_state": "sent",
                "late": False,
                "updated_at": T0,
            }
        ],
        "load_checkpoints": [
            {
                "restore_id": "r-00000000aa",
                "export_id": "01796000000000-0a1b2c3d",
                "file_key": "k",
                "items": 3,
                "deletes": 0,
                "finished_at": T0,
            }
        ],
        "leases": [{"name": "old", "holder": "old-replica", "expires_at": T0, "acquired_at": T0}],
    }


def test_the_new_bot_migrates_an_old_database_and_finds_every_row(
    old_database: str, start_bot: BotFactory, slack: Any
) -> None:
    bot = start_bot(database_url=old_database)
    engine = bot.services.engine
    assert schema_state(engine).current == head_revision()

    job = bot.services.core.store.get_export(EXPORT_ARN)
    assert job is not None and job.status == "COMPLETED" and job.item_count == 3
    assert bot.services.core.store.audit_entries(action="export.start")[0]["actor"] == "U0ALICE"
    request = RestoreStore(engine).get("r-00000000aa")
    assert request is not None and request.status == RestoreStatus.SUCCEEDED and request.plan_intact
    assert [a.approver for a in RestoreStore(engine).approvals("r-00000000aa")] == ["U0BOB"]
    schedule = ScheduleStore(engine).get("orders-1a2b")
    assert schedule is not None and schedule.paused
    assert [run.export_arn for run in ScheduleStore(engine).runs("orders-1a2b")] == [EXPORT_ARN]
    assert SqlLoadCheckpoints(engine).totals("r-00000000aa") == (0, 0, 0)  # kept by request id: dropped by 0004
    assert LeaseStore(engine).holder("old") is not None

    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    signed.command("/ddb-status", "01796000000000-0a1b2c3d", response_url=slack.response_url(OPS))
    status = slack.wait_for(lambda m: m.via == "response_url" and "01796000000000-0a1b2c3d" in m.text, timeout=60)
    assert "COMPLETED" in status.text + json.dumps(status.blocks)
    signed.command("/ddb-schedule", "list", response_url=slack.response_url(OPS))
    listed = slack.wait_for(lambda m: m.via == "response_url" and "orders-1a2b" in json.dumps(m.blocks), timeout=60)
    assert "paused" in (listed.text + json.dumps(listed.blocks)).lower()
