"""The outbox of export results: one poster at a time, a stale claim taken over, the slow poster's settle a
no-op, all by the database's clock; on SQLite and on PostgreSQL (when a server is given)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.db import make_engine
from bot.models import ExportJob, ExportStatus
from bot.outbox import RECLAIM_AFTER
from bot.store import Store, exports
from bot.wiring.schema import create_schema
from tests.support.databases import database_kinds, fresh_database

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/01796000000000-0a1b2c3d"


@pytest.fixture(params=database_kinds())
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with fresh_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        create_schema(engine)
        store = Store(engine)
        store.record_export(
            ExportJob(
                export_arn=ARN,
                export_id="01796000000000-0a1b2c3d",
                table_key="orders",
                table_name="orders",
                table_arn="arn:aws:dynamodb:us-east-1:123456789012:table/orders",
                region="us-east-1",
                status=ExportStatus.COMPLETED,
                export_type="FULL_EXPORT",  # type: ignore[arg-type]
                export_format="DYNAMODB_JSON",  # type: ignore[arg-type]
                bucket="acme",
                s3_prefix="p",
                requested_by="U0ALICE",
            )
        )
        yield store
        engine.dispose()


def age_claim(store: Store, by: timedelta) -> None:
    """Make the claim `by` older, as if its poster had been stuck that long."""
    with store.engine.begin() as connection:
        stamp = connection.execute(select(exports.c.notify_claimed_at)).scalar_one()
        connection.execute(update(exports).values(notify_claimed_at=stamp - by))


def test_one_poster_at_a_time_and_a_posted_result_is_never_pending_again(store: Store) -> None:
    assert [j.export_arn for j in store.pending_notifications()] == [ARN]
    claim = store.claim_notification(ARN)
    assert claim is not None
    assert store.claim_notification(ARN) is None  # held
    assert store.settle_notification(ARN, claim, delivered=True)
    assert store.pending_notifications() == [] and store.claim_notification(ARN) is None


def test_a_stale_claim_is_taken_over_and_the_slow_posters_settle_changes_nothing(store: Store) -> None:
    slow = store.claim_notification(ARN)
    assert slow is not None
    age_claim(store, RECLAIM_AFTER + timedelta(seconds=1))
    taker = store.claim_notification(ARN)
    assert taker is not None and taker != slow
    assert not store.settle_notification(ARN, slow, delivered=False)  # would have made it pending: posted twice
    assert store.claim_notification(ARN) is None  # the taker still holds it
    assert store.settle_notification(ARN, taker, delivered=True)
    assert store.pending_notifications() == []


def test_a_claim_just_short_of_the_reclaim_time_is_not_taken(store: Store) -> None:
    assert store.claim_notification(ARN) is not None
    age_claim(store, RECLAIM_AFTER - timedelta(seconds=30))
    assert store.claim_notification(ARN) is None
