"""`kms=` through the signed endpoint: the key reaches ExportTableToPointInTime as SSE-KMS and the export's objects
are encrypted with it; a key of another region than the bucket's is refused before anything starts; the
KMS-encrypted export is then read back by a verification. AWS is moto behind the demo's DynamoDB stand-ins, which
write exports as AWS does (manifests, SSE-KMS on every object)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.demo.aws.clock import SettableClock
from bot.demo.aws.exports import ExportPacing
from bot.demo.aws.standins import AwsStandIns, start_standins
from bot.demo.slack_standin import SlackStandIn
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import OPS, SIGNING_SECRET, BotFactory
from tests.support.aws_standins import standin_client
from tests.support.aws_world import s3_keys
from tests.support.restore_flow import wait_until
from tests.support.slack_requests import SignedSlackClient

OPERATOR = "U0ALICE"
BUCKET, EU_BUCKET = "acme-ddb-backups", "acme-ddb-backups-eu"
FINISH_AT_ONCE = ExportPacing(describes=None, seconds=0)  # the tracker lists exports and describes only finished ones


@pytest.fixture
def aws(world: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsStandIns]:
    """The stand-ins in front of the test's moto world; the bot reaches AWS through them."""
    with start_standins(world, clock=SettableClock(datetime.now(UTC)), export_pacing=FINISH_AT_ONCE) as standins:
        monkeypatch.setenv("AWS_ENDPOINT_URL", standins.url)
        yield standins


@pytest.fixture
def keys(aws: AwsStandIns) -> dict[str, str]:
    """A key in the bucket's region (us-east-1) with an alias, a key in eu-west-1, and a bucket there."""
    us = standin_client("kms", aws).create_key(Description="backups")["KeyMetadata"]["Arn"]
    standin_client("kms", aws).create_alias(AliasName="alias/backups", TargetKeyId=us)
    eu = standin_client("kms", aws, region_name="eu-west-1", **TESTING_KEYS)
    eu_arn = eu.create_key(Description="backups in Ireland")["KeyMetadata"]["Arn"]
    standin_client("s3", aws, region_name="eu-west-1", **TESTING_KEYS).create_bucket(
        Bucket=EU_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return {"us": us, "eu": eu_arn}


TESTING_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def kms_bot(start_bot: BotFactory, aws: AwsStandIns) -> BotRuntime:
    return start_bot(operators=[OPERATOR])


@pytest.fixture
def signed(kms_bot: BotRuntime) -> SignedSlackClient:
    return SignedSlackClient(f"{kms_bot.url}/slack/events", SIGNING_SECRET)


def command(signed: SignedSlackClient, slack: SlackStandIn, name: str, text: str) -> str:
    url = slack.response_url(OPS, user=OPERATOR)
    response = signed.command(name, text, user_id=OPERATOR, response_url=url)
    assert response.status == 200
    if not response.body.startswith(":hourglass"):  # a usage error is answered with the acknowledgement itself
        return response.body
    message = slack.wait_for(lambda m: m.via == "response_url" and not m.text.startswith(":hourglass"), timeout=20)
    return message.text + json.dumps(message.blocks)


def exports_of(aws: AwsStandIns) -> list[dict[str, Any]]:
    ddb = standin_client("dynamodb", aws)
    arn = ddb.describe_table(TableName="orders")["Table"]["TableArn"]
    summaries = ddb.list_exports(TableArn=arn)["ExportSummaries"]
    return [ddb.describe_export(ExportArn=s["ExportArn"])["ExportDescription"] for s in summaries]


def test_kms_reaches_the_export_as_sse_kms_and_every_object_is_encrypted_with_the_key(
    aws: AwsStandIns, keys: dict[str, str], kms_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    command(signed, slack, "/ddb-export", f"orders kms={keys['us']}")

    (described,) = exports_of(aws)
    assert described["S3SseAlgorithm"] == "KMS"
    assert described["S3SseKmsKeyId"] == keys["us"]
    job = wait_until(lambda: next(iter(kms_bot.services.core.store.recent_exports("orders")), None), "recorded")
    assert job.kms_key == keys["us"]
    s3 = standin_client("s3", aws)
    written = wait_until(lambda: [k for k in s3_keys(s3, BUCKET) if k.endswith(".json.gz")], "data files written")
    for key in written:
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", keys["us"]), key


def test_a_kms_alias_in_the_buckets_region_is_looked_up_and_used(
    aws: AwsStandIns, keys: dict[str, str], signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    command(signed, slack, "/ddb-export", "orders kms=alias/backups")
    (described,) = exports_of(aws)
    assert (described["S3SseAlgorithm"], described["S3SseKmsKeyId"]) == ("KMS", "alias/backups")


def test_a_key_in_another_region_than_the_bucket_is_refused_before_anything_starts(
    aws: AwsStandIns, keys: dict[str, str], signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    text = command(signed, slack, "/ddb-export", f"orders kms={keys['eu']}")
    assert f"is in eu-west-1 but bucket `{BUCKET}` is in us-east-1" in text
    assert "Nothing was started" in text
    assert exports_of(aws) == []


def test_an_alias_whose_key_is_not_in_the_buckets_region_is_refused(
    aws: AwsStandIns, keys: dict[str, str], signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    text = command(signed, slack, "/ddb-export", f"orders bucket={EU_BUCKET} kms=alias/backups")
    assert f"is in us-east-1 but bucket `{EU_BUCKET}` is in eu-west-1" in text
    assert exports_of(aws) == []


def test_an_alias_that_does_not_exist_is_named(
    aws: AwsStandIns, keys: dict[str, str], signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    text = command(signed, slack, "/ddb-export", "orders kms=alias/nowhere")
    assert "There is no KMS key `alias/nowhere` in us-east-1" in text
    assert exports_of(aws) == []


def test_a_kms_value_that_is_no_key_says_how_to_write_one(signed: SignedSlackClient, slack: SlackStandIn) -> None:
    text = command(signed, slack, "/ddb-export", "orders kms=1234abcd-12ab-34cd-56ef-1234567890ab")
    assert "is not a KMS key the bot can use" in text and "kms=alias/backups" in text


def test_the_tables_default_key_from_the_config_file_is_used(
    aws: AwsStandIns, keys: dict[str, str], start_bot: BotFactory, slack: SlackStandIn, tmp_path: Any
) -> None:
    config = tmp_path / "kms.toml"
    config.write_text(f'[tables."orders"]\nkms = "{keys["us"]}"\n')
    runtime = start_bot(operators=[OPERATOR], config_file=config)
    command(SignedSlackClient(f"{runtime.url}/slack/events", SIGNING_SECRET), slack, "/ddb-export", "orders")
    (described,) = exports_of(aws)
    assert described["S3SseKmsKeyId"] == keys["us"]


def test_a_kms_encrypted_export_is_verified_by_reading_it_back(
    aws: AwsStandIns, keys: dict[str, str], kms_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    command(signed, slack, "/ddb-export", f"orders kms={keys['us']}")
    store = kms_bot.services.core.store
    job = wait_until(lambda: next((j for j in store.recent_exports("orders") if j.finished), None), "finished", 30)
    url = slack.response_url(OPS, user=OPERATOR)
    assert signed.command("/ddb-verify", job.export_id, user_id=OPERATOR, response_url=url).status == 200
    slack.wait_for(lambda m: m.text == f"Export {job.export_id} verified OK" and m.thread_ts is not None, timeout=30)


def test_a_schedules_kms_key_reaches_its_exports(
    aws: AwsStandIns, keys: dict[str, str], start_bot: BotFactory, slack: SlackStandIn, tmp_path: Any
) -> None:
    config = tmp_path / "schedule.toml"
    config.write_text(f'[[schedules]]\nid = "nightly"\ntable = "orders"\ncron = "0 2 * * *"\nkms = "{keys["us"]}"\n')
    runtime = start_bot(operators=[OPERATOR], config_file=config)
    signed = SignedSlackClient(f"{runtime.url}/slack/events", SIGNING_SECRET)
    url = slack.response_url(OPS, user=OPERATOR)
    assert signed.command("/ddb-schedule", "run nightly", user_id=OPERATOR, response_url=url).status == 200
    (described,) = wait_until(lambda: exports_of(aws), "the scheduled export started")
    assert (described["S3SseAlgorithm"], described["S3SseKmsKeyId"]) == ("KMS", keys["us"])
