"""`/ddb-retention` through the signed endpoint, AWS from moto's server: when each export's files go under the
bucket's lifecycle rules, a rule that deletes a chain's base full export flagged, fewer full exports than asked
flagged, and a proposed rule S3 accepts as written."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.demo.slack_standin import SlackStandIn
from bot.models import ExportLocation
from bot.wiring.runtime import BotRuntime
from handlers.kit.text import when
from tests.integration.conftest import OPS, SIGNING_SECRET, BotFactory
from tests.support.export_fixtures import sample_items, write_full_export, write_incremental_export
from tests.support.slack_requests import SignedSlackClient

BUCKET, PREFIX = "acme-ddb-backups", "dynamodb-exports/orders"
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
DAY = timedelta(days=1)


@pytest.fixture
def signed(bot: BotRuntime) -> SignedSlackClient:
    return SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)


def retention(signed: SignedSlackClient, slack: SlackStandIn, text: str, user: str = "U0ALICE") -> str:
    return answer_to(signed, slack, "/ddb-retention", text, user)


def answer_to(signed: SignedSlackClient, slack: SlackStandIn, command: str, text: str, user: str = "U0ALICE") -> str:
    """The answer a command gets through response_url (past the hourglass), its text and every block's text."""
    seen = {m.ts for m in slack.messages()}
    response = signed.command(command, text, response_url=slack.response_url(OPS, user=user), user_id=user)
    assert response.status == 200, response.body
    message = slack.wait_for(
        lambda m: m.ts not in seen and m.via == "response_url" and not m.text.startswith(":hourglass"), timeout=20
    )
    return message.text + "\n" + "\n".join(block_texts(message.blocks))


def block_texts(blocks: Any) -> list[str]:
    """Every mrkdwn or plain text in the blocks, as Slack shows it."""
    if isinstance(blocks, dict):
        found = [blocks["text"]] if isinstance(blocks.get("text"), str) else []
        return found + [t for value in blocks.values() if not isinstance(value, str) for t in block_texts(value)]
    if isinstance(blocks, list):
        return [t for value in blocks for t in block_texts(value)]
    return []


def full_export(s3: Any, at: datetime, folder: str) -> ExportLocation:
    items = sample_items(3, seed=1)
    return write_full_export(s3, BUCKET, f"{PREFIX}/{folder}", items, export_time=at, table_name="orders", files=1)


def incremental(s3: Any, start: datetime, end: datetime) -> ExportLocation:
    changes = [({"pk": {"S": "order#1"}, "sk": {"S": "v1"}}, {"pk": {"S": "order#1"}, "sk": {"S": "v1"}})]
    folder = f"{PREFIX}/inc-{start:%Y%m%dT%H%M}"
    return write_incremental_export(s3, BUCKET, folder, changes, start, end, table_name="orders", files=1)


def expire_after(s3: Any, days: int, prefix: str = "dynamodb-exports/") -> None:
    rule = {"ID": "old-exports", "Status": "Enabled", "Filter": {"Prefix": prefix}, "Expiration": {"Days": days}}
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [rule]})


def midnight_after(moment: datetime) -> datetime:
    return datetime.combine(moment.date() + DAY, time(), UTC)


def test_the_answer_says_when_each_export_goes_under_the_bucket_rule(
    s3: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    expire_after(s3, 30)
    full = full_export(s3, NOW - 2 * DAY, "full")
    text = retention(signed, slack, "orders")
    assert "s3://acme-ddb-backups/dynamodb-exports/" in text
    assert "the rules delete files 30 days after they are written" in text and "versioning off" in text
    assert f"`{full.export_id}` full of {when(NOW - 2 * DAY)}: deleted {when(midnight_after(NOW + 28 * DAY))}" in text
    assert "no retention asked" in text


def test_a_rule_that_deletes_a_chain_base_export_first_is_flagged(
    s3: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    expire_after(s3, 30)
    base = full_export(s3, NOW - 3 * DAY, "base")
    incremental(s3, NOW - 3 * DAY, NOW - 2 * DAY)
    incremental(s3, NOW - 2 * DAY, NOW - DAY)
    text = retention(signed, slack, "orders")
    assert f"The rules delete the full export {base.export_id}" in text
    assert "while 2 incremental exports that build on it are to be kept longer" in text
    assert "cannot be restored" in text


def test_no_chain_is_flagged_when_nothing_deletes_the_base_first(
    s3: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    full_export(s3, NOW - 3 * DAY, "base")
    incremental(s3, NOW - 3 * DAY, NOW - 2 * DAY)
    text = retention(signed, slack, "orders")
    assert "cannot be restored" not in text and "no rule deletes the exports" in text


def test_fewer_full_exports_than_asked_is_flagged(s3: Any, signed: SignedSlackClient, slack: SlackStandIn) -> None:
    expire_after(s3, 10)
    full_export(s3, NOW - 20 * DAY, "f0")
    full_export(s3, NOW - 13 * DAY, "f1")
    full_export(s3, NOW - 6 * DAY, "f2")
    text = retention(signed, slack, "orders fulls=3")
    assert "Only 1 full export of the table is kept now, fewer than the 3 asked." in text
    assert "at least 3 full exports" in text
    assert "With a full export every 7 days and the rules of s3://acme-ddb-backups/dynamodb-exports/" in text
    assert "deleting files after 10 days, at most 2 full exports are kept, fewer than the 3 asked." in text


def test_the_proposed_rule_is_accepted_by_s3_as_written(
    s3: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    full_export(s3, NOW - 14 * DAY, "f0")
    full_export(s3, NOW - 7 * DAY, "f1")
    incremental(s3, NOW - 7 * DAY, NOW - 6 * DAY)
    text = retention(signed, slack, "orders keep=35d fulls=2")
    assert "keep 35 days, at least 2 full exports" in text
    assert "delete files 42 days after they are written" in text, "35 days and the base full export a week older"
    blocks = re.findall(r"```(.*?)```", text, flags=re.S)
    body = json.loads(blocks[0])
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration=body)
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rule["Filter"] == {"Prefix": "dynamodb-exports/orders/"}
    assert rule["Expiration"] == {"Days": 42} and rule["Status"] == "Enabled"
    assert 'resource "aws_s3_bucket_lifecycle_configuration"' in text and "expiration { days = 42 }" in text
    again = retention(signed, slack, "orders keep=35d fulls=2")
    assert "cannot be restored" not in again and "fewer than" not in again, "the proposed rule breaks nothing"


def test_keep_and_fulls_come_from_the_config_file(
    start_bot: BotFactory, s3: Any, slack: SlackStandIn, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[tables."orders"]\nkeep = "35d"\nfulls = 2\n', encoding="utf-8")
    bot = start_bot(config_file=config)
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    assert "keep 35 days, at least 2 full exports" in retention(signed, slack, "orders")
    assert "keep 7 days, at least 2 full exports" in retention(signed, slack, "orders keep=7d")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("orders keep=35", "`keep=` must be a number of days followed by d, e.g. 35d: keep=35d."),
        ("orders keep=0d", "`keep=` must be between 1d and 36500d: keep=35d."),
        ("orders fulls=-1", "`fulls=` must be a whole number of full exports from 1 to 1,000"),
        ("orders keeps=3d", "Unknown option `keeps=`. Did you mean `keep=`?"),
        ("orders delete", "Name the export to delete"),
        ("orders delete ../../etc", "That is not an export id or an export ARN"),
        ("orders now", "I don't understand `now`."),
    ],
)
def test_hostile_input_gets_a_clear_message(
    signed: SignedSlackClient, slack: SlackStandIn, text: str, said: str
) -> None:
    response = signed.command("/ddb-retention", text, response_url=slack.response_url(OPS))
    assert response.status == 200
    assert said in json.dumps(json.loads(response.body), ensure_ascii=False), response.body
