"""The restore tests' world: one running bot with approvers and an approval channel, a signed client for it, and a
full export beside an empty `staging` table to restore it into."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.models import ExportLocation
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import SIGNING_SECRET, BotFactory
from tests.support.export_fixtures import Item, sample_items, write_full_export
from tests.support.restore_flow import RESTORE_SETTINGS, create_staging
from tests.support.slack_requests import SignedSlackClient


@pytest.fixture
def restore_bot(start_bot: BotFactory) -> BotRuntime:
    """A bot with RESTORE_SETTINGS (approvers, the approval channel)."""
    return start_bot(**RESTORE_SETTINGS)


@pytest.fixture
def signed_restore(restore_bot: BotRuntime) -> SignedSlackClient:
    """Slack-signed requests to `restore_bot`."""
    return SignedSlackClient(f"{restore_bot.url}/slack/events", SIGNING_SECRET)


BUCKET = "acme-ddb-backups"
T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
Exported = Callable[..., tuple[list[Item], ExportLocation]]


@pytest.fixture
def exported(ddb: Any, s3: Any) -> Exported:
    """Make a full export of `count` sample items (in `files` data files, no empty one) under `external/source` in
    BUCKET, exported at T0, and an empty `staging` table to restore it into; returns the items and the export."""

    def make(count: int, *, seed: int = 0, files: int = 1) -> tuple[list[Item], ExportLocation]:
        items = list(sample_items(count, seed=seed))
        full = write_full_export(s3, BUCKET, "external/source", items, files=files, empty_files=0, export_time=T0)
        create_staging(ddb)
        return items, full

    return make
