"""The real bot over HTTP with AWS from the DynamoDB stand-ins (history, moving PITR window, filtered and incremental
exports) in front of moto's server, and a table with a history: an item deleted by mistake two hours ago; a deploy
that changed 10 items, deleted 3 and created 5 between 90 and 60 minutes ago; one of those changed again by hand 30
minutes ago."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.demo.aws.exports import ExportPacing
from bot.demo.aws.standins import AwsStandIns, start_standins
from bot.demo.slack_standin import SlackStandIn
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import SIGNING_SECRET, bot_settings
from tests.support.aws_world import client, reset_moto
from tests.support.restore_flow import APPROVER, REQUESTER, RESTORE_SETTINGS, SECOND_APPROVER
from tests.support.slack_requests import SignedSlackClient

TABLE = "orders"
BUCKET = "acme-ddb-backups"
TESTING = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
DEPLOYED = [f"D-{n:02d}" for n in range(1, 14)]  # D-01..D-10 changed, D-11..D-13 deleted by the deploy
CREATED = [f"N-{n}" for n in range(1, 6)]  # created by the deploy
HAND_FIXED = "D-03"  # changed again by hand after the deploy
LOST = "C-1"  # deleted by mistake two hours ago
SECRET = "4111-1111-1111-1111"  # a value that must never reach a channel


@dataclass
class ShiftedClock:
    """Real time shifted by `offset`: the history is seeded in the past, then the clock is real time, so the bot's
    relative times (`-2h`) and the stand-ins' PITR window agree."""

    offset: timedelta = field(default=timedelta(0))

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def at(self, ago: timedelta) -> None:
        self.offset = -ago


def order(pk: str, sk: str = "1", **values: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{name: {"S": value} for name, value in values.items()}}


def original(pk: str) -> dict[str, Any]:
    """Each order as it was before the deploy."""
    return order(pk, status="paid", card=SECRET, note=f"order {pk}")


def create_orders(aws: AwsStandIns, ddb: Any) -> None:
    """The export bucket, and `orders` (pk S, sk S) with PITR on from the clock's time."""
    client("s3", aws.url, **TESTING).create_bucket(Bucket=BUCKET)
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
def aws(moto_server: str, clock: ShiftedClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsStandIns]:
    """The stand-ins in front of a fresh moto; boto3 finds them through AWS_ENDPOINT_URL, for this test only."""
    reset_moto(moto_server)
    with start_standins(moto_server, clock=clock, export_pacing=ExportPacing(describes=1)) as standins:
        for name, value in {
            "AWS_ENDPOINT_URL": standins.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        yield standins


@pytest.fixture
def ddb(aws: AwsStandIns) -> Any:
    return client("dynamodb", aws.url, **TESTING)


@pytest.fixture
def history(aws: AwsStandIns, ddb: Any, clock: ShiftedClock) -> None:
    """The table and its history, written through the front at the times they happened."""
    clock.at(timedelta(minutes=180))
    create_orders(aws, ddb)
    clock.at(timedelta(minutes=170))
    for pk in [LOST, *DEPLOYED, "U-1", "U-2"]:
        ddb.put_item(TableName=TABLE, Item=original(pk))
    clock.at(timedelta(minutes=120))
    ddb.delete_item(TableName=TABLE, Key=order(LOST))  # by mistake
    for n, pk in enumerate(DEPLOYED[:10]):
        clock.at(timedelta(minutes=86 - n))
        ddb.put_item(TableName=TABLE, Item=order(pk, status="garbage", card=SECRET, note=f"order {pk}", v="2"))
    for n, pk in enumerate(DEPLOYED[10:]):
        clock.at(timedelta(minutes=75 - n))
        ddb.delete_item(TableName=TABLE, Key=order(pk))
    for n, pk in enumerate(CREATED):
        clock.at(timedelta(minutes=70 - n))
        ddb.put_item(TableName=TABLE, Item=order(pk, status="new", card=SECRET))
    clock.at(timedelta(minutes=30))
    ddb.put_item(TableName=TABLE, Item=order(HAND_FIXED, status="fixed by hand", card=SECRET, note="ops"))
    clock.at(timedelta(0))


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def bot(aws: AwsStandIns, history: None, slack: SlackStandIn, tmp_path: Path) -> Iterator[BotRuntime]:
    """The bot, operators REQUESTER and the approvers (anyone else is refused)."""
    settings = bot_settings(
        tmp_path,
        slack,
        **RESTORE_SETTINGS,
        operators=[REQUESTER, APPROVER, SECOND_APPROVER],
        export_bucket=BUCKET,
    )
    runtime = BotRuntime(settings, host="127.0.0.1", port=0).start()
    yield runtime
    runtime.stop()


@pytest.fixture
def signed(bot: BotRuntime) -> SignedSlackClient:
    return SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
