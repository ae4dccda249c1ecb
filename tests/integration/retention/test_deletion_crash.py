"""An approved early deletion whose worker dies at any step (before deleting, after deleting, while recording) is
taken over by a fresh replica once its claim is stale, and ends DELETED with the export's files gone, on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.background.notes import NOTE
from bot.demo.slack_standin import SlackStandIn
from bot.models import Requester
from bot.retention.models import DeletionState
from bot.retention.store import DELETION
from tests.integration.retention.test_retention import full_export
from tests.support.aws_world import s3_keys
from tests.support.crashes import Cluster, Crash, CrashAt
from tests.support.databases import database_kinds, fresh_database

REQUESTER, APPROVER = "U0ALICE", "U0BOB"
SETTINGS = {
    "work_max_attempts": 3,
    "operators": [REQUESTER],
    "approvers": [REQUESTER, APPROVER],
    "approval_channel": "C0APPROVALS",
    "export_bucket": "acme-ddb-backups",
}


@pytest.fixture(params=database_kinds())
def cluster(request: pytest.FixtureRequest, world: str, tmp_path: Path) -> Iterator[Cluster]:
    with SlackStandIn() as slack, fresh_database(request.param, tmp_path) as url:
        made = Cluster(url, slack, tmp_path, SETTINGS)
        yield made
        made.close()


@pytest.mark.parametrize("step", ["deleting", "deleted", "finishing"])
def test_a_deletion_whose_worker_dies_is_finished_by_another_replica(cluster: Cluster, s3: Any, step: str) -> None:
    doomed = full_export(s3, datetime.now(UTC) - timedelta(days=2), "doomed")
    crash = CrashAt(DELETION, step)
    first = cluster.replica(crash)
    asked = first.deletions.request("orders", doomed.export_id, Requester(REQUESTER, "C0OPS"))
    first.deletions.approve(asked.button_value, APPROVER)
    with pytest.raises(Crash):
        first.work_runner.run_pending([DELETION])
    assert crash.crashed == 1
    stored = first.deletions.store.get(asked.id)
    assert stored is not None and stored.state == DeletionState.APPROVED, "the crash recorded nothing"

    cluster.stale()
    second = cluster.replica()
    second.work_runner.run_pending([DELETION])

    done = second.deletions.store.get(asked.id)
    assert done is not None and done.state == DeletionState.DELETED
    assert s3_keys(s3, "acme-ddb-backups", doomed.folder) == []

    second.work_runner.run_pending([NOTE])  # the result, owed with the DELETED state, to each destination once
    second.work_runner.run_pending([NOTE])
    told = [m for m in cluster.slack.messages() if "objects deleted." in json.dumps(m.blocks)]
    in_thread = [m for m in told if m.thread_ts == done.approval_ts]
    to_requester = [m for m in told if m.channel == REQUESTER or m.channel.startswith("D")]
    assert len(in_thread) == 1 and len(to_requester) == 1, [(m.channel, m.thread_ts) for m in told]
