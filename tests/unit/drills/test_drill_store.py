"""At most DDBBOT_MAX_DRILLS drills are queued or running at once, even when requests race; a drill is claimed
by one runner, and a claim whose runner went silent can be taken over (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.db import make_engine
from bot.drills.models import Drill, DrillResult, DrillSpec, DrillStatus, new_drill_id
from bot.drills.store import DrillStore
from bot.models import ExportType
from bot.schema_migrations import migrate
from bot.verification.models import ExportTarget
from tests.support.databases import database_kinds, fresh_database


@pytest.fixture(params=database_kinds())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with fresh_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        migrate(engine)
        yield engine
        engine.dispose()


def a_drill() -> Drill:
    target = ExportTarget("01768385930622-efd1a093", None, "b", "p", None, ExportType.FULL, None, "us-east-1", "x")
    spec = DrillSpec("orders", None, "us-east-1", target, "orders-drill-202612021530", {}, 3)
    return Drill(new_drill_id(), spec, "U0ALICE", "C0OPS")


def test_racing_requests_never_queue_more_than_the_maximum(engine: Engine) -> None:
    store = DrillStore(engine)
    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(lambda _: store.create(a_drill(), max_active=2), range(8)))
    assert sum(d is not None for d in created) == 2
    first = next(d for d in created if d is not None)
    assert store.claim(first.id, "runner-a", timedelta(minutes=1))
    assert store.finish(first.id, "runner-a", DrillResult()) is not None
    assert store.create(a_drill(), max_active=2) is not None  # a finished drill no longer counts


def test_one_runner_holds_a_drill_until_its_heartbeat_goes_stale(engine: Engine) -> None:
    store = DrillStore(engine)
    drill = store.create(a_drill(), max_active=5)
    assert drill is not None
    assert store.claim(drill.id, "runner-a", timedelta(minutes=5))
    assert not store.claim(drill.id, "runner-b", timedelta(minutes=5))
    assert store.claim(drill.id, "runner-b", timedelta(seconds=-1))  # runner-a silent for longer than that
    assert not store.heartbeat(drill.id, "runner-a")
    assert store.finish(drill.id, "runner-a", DrillResult()) is None
    done = store.finish(drill.id, "runner-b", DrillResult(failure="x"))
    assert done is not None and done.status == DrillStatus.FAILED and done.attempts == 2
