"""The core commands end to end: signed requests to /slack/events, AWS on moto's server, Slack stand-in."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import NOTIFY, OPS, SIGNING_SECRET, BotFactory
from tests.support.aws_world import (
    BACKUP_ACCOUNT,
    DEFAULT_ACCOUNT,
    account_credentials,
    client,
    exports_held,
    s3_keys,
)
from tests.support.slack_requests import SignedSlackClient


def reply(slack: SlackStandIn, signed: SignedSlackClient, command: str, text: str, **kwargs: Any) -> PostedMessage:
    """Send a command and wait for its final answer through response_url (not the 'working' ack)."""
    seen = {m.ts for m in slack.messages()}
    url = slack.response_url(OPS)
    response = signed.command(command, text, response_url=url, **kwargs)
    assert response.status == 200, response.body
    return slack.wait_for(
        lambda m: m.ts not in seen and m.via == "response_url" and not m.text.startswith(":hourglass"), timeout=60
    )


def ack_text(signed: SignedSlackClient, slack: SlackStandIn, command: str, text: str) -> str:
    """The text and blocks of the immediate HTTP answer (bad input and help are answered there)."""
    response = signed.command(command, text, response_url=slack.response_url(OPS))
    assert response.status == 200
    if not response.body.startswith("{"):
        return response.body  # Bolt answers a text-only ack as plain text
    body = response.json()
    return body.get("text", "") + json.dumps(body.get("blocks", []))


def full_text(message: PostedMessage) -> str:
    """A message's text and every block's text, for assertions."""
    return message.text + json.dumps(message.blocks)


def wait_for_audit(bot: BotRuntime, action: str, timeout: float = 60.0) -> dict[str, Any]:
    """The newest audit entry of `action`, once it is written (a command's own entry follows its answer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entries = bot.services.core.store.audit_entries(action=action)
        if entries:
            return entries[0]
        time.sleep(0.05)
    raise AssertionError(f"no audit entry for {action} within {timeout}s")


def wait_until_exported(export_arn: str, timeout: float = 60.0) -> None:
    """Until DynamoDB (moto) says the export finished, asked the way the tracker asks."""
    ddb = client("dynamodb", os.environ["AWS_ENDPOINT_URL"])
    deadline = time.monotonic() + timeout
    while ddb.describe_export(ExportArn=export_arn)["ExportDescription"]["ExportStatus"] == "IN_PROGRESS":
        assert time.monotonic() < deadline, "moto never finished the export"
        time.sleep(0.05)


def export_count(ddb: Any, table: str) -> int:
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    return len(ddb.list_exports(TableArn=arn).get("ExportSummaries", []))


def test_pitr_status_reports_on_with_window_and_off_with_enable_command(bot: BotRuntime, signed, slack) -> None:
    on = full_text(reply(slack, signed, "/ddb-pitr", "orders"))
    assert "PITR is *on*" in on
    assert "35 days" in on
    assert "Earliest restorable" in on and "Latest restorable" in on
    off = full_text(reply(slack, signed, "/ddb-pitr", "customers"))
    assert "PITR is *off*" in off
    assert "/ddb-pitr customers enable" in off


def test_pitr_enable_turns_it_on_with_the_period_and_says_the_monthly_cost(bot, signed, slack, ddb) -> None:
    message = full_text(reply(slack, signed, "/ddb-pitr", "customers enable days=7"))
    assert "PITR is *on*" in message and "just turned on" in message
    assert "per month" in message and "$" in message
    description = ddb.describe_continuous_backups(TableName="customers")["ContinuousBackupsDescription"]
    assert description["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert description["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 7


def test_pitr_enable_is_refused_to_non_operators_and_changes_nothing(start_bot: BotFactory, slack, ddb) -> None:
    runtime = start_bot(operators=["U0OPERATOR"])
    signed = SignedSlackClient(f"{runtime.url}/slack/events", SIGNING_SECRET)
    message = full_text(reply(slack, signed, "/ddb-pitr", "customers enable", user_id="U0INTRUDER"))
    assert "Only operators may turn on point-in-time recovery" in message
    description = ddb.describe_continuous_backups(TableName="customers")["ContinuousBackupsDescription"]
    assert description["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"


def test_operator_in_a_user_group_may_export(start_bot: BotFactory, slack, ddb) -> None:
    slack.set_usergroup("S0SRE", ["U0ALICE"])
    runtime = start_bot(operators=["S0SRE"])
    signed = SignedSlackClient(f"{runtime.url}/slack/events", SIGNING_SECRET)
    message = full_text(reply(slack, signed, "/ddb-export", "orders"))
    assert "started" in message
    assert export_count(ddb, "orders") == 1


def test_export_is_refused_on_a_table_without_pitr_and_nothing_starts(bot, signed, slack, ddb, s3) -> None:
    message = full_text(reply(slack, signed, "/ddb-export", "customers"))
    assert "Point-in-time recovery is off for `customers`" in message
    assert "Nothing was started" in message
    assert "/ddb-pitr customers enable" in message
    assert export_count(ddb, "customers") == 0
    assert s3_keys(s3, "acme-ddb-backups") == []


def test_export_is_tracked_to_completed_and_posted_with_its_item_count(bot, signed, slack, s3) -> None:
    with exports_held() as release:
        started = full_text(reply(slack, signed, "/ddb-export", "orders"))
        assert "started" in started
        job = bot.services.core.store.recent_exports("orders")[0]
        assert job.export_id in started
        looked = bot.services.tracker.wait_for_cycle(lambda r: r.checked >= 1 and r.finished == 0, timeout=60)
        assert looked is not None, "the tracker never looked at the running export"
        assert not slack.messages(NOTIFY)  # nothing is reported while DynamoDB is still exporting
        release.set()
    done = slack.wait_for(lambda m: m.channel == NOTIFY and "COMPLETED" in m.text, timeout=60)
    assert job.export_id in full_text(done)
    assert "Items: *3*" in full_text(done)
    assert "$" in full_text(done)
    slack.wait_for(lambda m: m.channel == OPS and m.via == "chat.postMessage" and "COMPLETED" in m.text)
    keys = s3_keys(s3, "acme-ddb-backups", "dynamodb-exports/orders/")
    assert keys, "the export wrote nothing to the bucket"
    folder = keys[0].split("/")[2]
    assert len(folder) == 16 and folder.endswith("Z")  # <prefix>/<table>/<UTC timestamp>/
    assert bot.services.core.store.get_export(job.export_arn).status == "COMPLETED"  # type: ignore[union-attr]


def test_each_export_gets_its_own_folder(bot, signed, slack, s3) -> None:
    reply(slack, signed, "/ddb-export", "orders prefix=team-a")
    time.sleep(1.1)
    reply(slack, signed, "/ddb-export", "orders prefix=team-a format=ion")
    folders = {key.split("/")[2] for key in s3_keys(s3, "acme-ddb-backups", "team-a/orders/")}
    assert len(folders) == 2


def test_a_repeated_export_request_does_not_start_a_second_export(bot, signed, slack, ddb) -> None:
    first = full_text(reply(slack, signed, "/ddb-export", "orders since=2026-01-01T00:00:00Z"))
    assert "outside the table's PITR window" in first  # moto's window starts now: nothing started
    reply(slack, signed, "/ddb-export", "orders bucket=acme-ddb-backups")
    slack.calls.clear()
    again = full_text(reply(slack, signed, "/ddb-export", "orders bucket=acme-ddb-backups"))
    assert "already under way" in again or "Nothing new was started" in again
    assert export_count(ddb, "orders") == 1


def test_export_into_a_bucket_owned_by_a_second_account_lands_there(bot, signed, slack, world) -> None:
    backup = account_credentials(world, BACKUP_ACCOUNT)
    backup_s3 = client("s3", world, **backup)
    backup_s3.create_bucket(Bucket="central-backups")
    message = full_text(reply(slack, signed, "/ddb-export", f"orders bucket=central-backups owner={BACKUP_ACCOUNT}"))
    assert "bucket owner `222222222222`" in message
    slack.wait_for(lambda m: m.channel == NOTIFY and "COMPLETED" in m.text, timeout=60)
    keys = s3_keys(backup_s3, "central-backups", "dynamodb-exports/orders/")
    assert keys and all("/AWSDynamoDB/" in k for k in keys)
    own_buckets = [b["Name"] for b in client("s3", world).list_buckets()["Buckets"]]
    assert "central-backups" not in own_buckets  # it really is the other account's bucket
    assert client("sts", world).get_caller_identity()["Account"] == DEFAULT_ACCOUNT


def test_an_export_that_fails_is_posted_with_dynamodbs_reason_and_what_to_fix(bot, signed, slack) -> None:
    reply(slack, signed, "/ddb-export", "orders bucket=no-such-bucket-here")
    failed = slack.wait_for(lambda m: m.channel == NOTIFY and "FAILED" in m.text, timeout=60)
    text = full_text(failed)
    assert "S3NoSuchBucket" in text
    assert "does not exist" in text and "create it or fix bucket=" in text


def test_status_lists_the_export_by_id_for_all_tables_the_table_and_alone(bot, signed, slack) -> None:
    reply(slack, signed, "/ddb-export", "orders")
    slack.wait_for(lambda m: m.channel == NOTIFY and "COMPLETED" in m.text, timeout=60)
    export_id = bot.services.core.store.recent_exports("orders")[0].export_id
    everything = full_text(reply(slack, signed, "/ddb-status", ""))
    assert export_id in everything and "COMPLETED" in everything
    of_table = full_text(reply(slack, signed, "/ddb-status", "orders"))
    assert export_id in of_table and "<@U0ALICE>" in of_table
    detail = full_text(reply(slack, signed, "/ddb-status", export_id))
    assert "*Status:* COMPLETED" in detail and "*Items:* 3" in detail


def test_status_of_an_unknown_export_id_says_how_to_find_it(bot, signed, slack) -> None:
    message = full_text(reply(slack, signed, "/ddb-status", "01768385930622-efd1a093"))
    assert "no record of export" in message
    assert "/ddb-status &lt;table&gt;" in message  # escaped for mrkdwn


def test_cost_shows_dollar_figures_labelled_as_list_price_estimates(bot, signed, slack) -> None:
    reply(slack, signed, "/ddb-export", "orders")
    slack.wait_for(lambda m: m.channel == NOTIFY and "COMPLETED" in m.text, timeout=60)
    message = full_text(reply(slack, signed, "/ddb-cost", "orders"))
    for needle in (
        "PITR",
        "per month",
        "One full export",
        "One incremental export",
        "S3 storage",
        "Recent exports",
        "$",
        "list prices for us-east-1",
    ):
        assert needle in message, needle
    # moto, like a fresh AWS table, reports TableSizeBytes 0: the bot says so and uses the export's size
    assert "reports a size of 0" in message and "estimated from export" in message


@pytest.mark.parametrize(
    ("command", "text", "expected"),
    [
        ("/ddb-export", "ab", "is not a valid DynamoDB table name: it is too short"),
        ("/ddb-export", "orders!", "is not a valid DynamoDB table name"),
        ("/ddb-export", "orders colour=blue", "Unknown option `colour=`"),
        ("/ddb-export", "orders at=yesterday", "is not a time"),
        ("/ddb-export", "orders owner=12345", "must be the 12-digit AWS account id"),
        ("/ddb-export", "orders format=csv", "is not an export format"),
        ("/ddb-export", "orders bucket=Bad_Bucket", "is not a valid S3 bucket name"),
        ("/ddb-export", "orders until=2026-01-01T00:00:00Z", "`until=` needs `since=`"),
        ("/ddb-pitr", "orders enable days=90", "must be a whole number of days from 1 to 35"),
        ("/ddb-pitr", "orders disable", "is not something /ddb-pitr does"),
        ("/ddb-cost", "orders extra", "I don't understand `extra`"),
        ("/ddb-export", "nosuchalias:orders", "Unknown account alias `nosuchalias`"),
    ],
)
def test_bad_input_is_answered_clearly_and_starts_nothing(bot, signed, slack, ddb, command, text, expected) -> None:
    answer = ack_text(signed, slack, command, text)
    assert expected in answer
    assert "Usage" in answer
    assert export_count(ddb, "orders") == 0


def test_user_text_is_escaped_before_it_reaches_mrkdwn(bot, signed, slack) -> None:
    answer = ack_text(signed, slack, "/ddb-export", "orders <!channel>=1")
    assert "<!channel>" not in answer
    assert "&lt;!channel&gt;" in answer


@pytest.mark.parametrize("command", ["/ddb-pitr", "/ddb-export", "/ddb-status", "/ddb-cost"])
def test_every_command_answers_help(bot, signed, slack, command) -> None:
    answer = ack_text(signed, slack, command, "help")
    assert "Usage" in answer and command in answer and "Examples" in answer


@pytest.mark.parametrize("command", ["/ddb-pitr", "/ddb-export", "/ddb-cost"])
def test_a_bare_command_shows_its_usage(bot, signed, slack, command) -> None:
    assert "Usage" in ack_text(signed, slack, command, "")


def test_commands_are_acknowledged_before_any_aws_work(bot, signed, slack) -> None:
    response = signed.command("/ddb-cost", "orders", response_url=slack.response_url(OPS))
    assert response.status == 200
    assert response.body.startswith(":hourglass")  # the ack says "working", the answer follows
    assert response.elapsed < 3.0
    slack.wait_for(lambda m: "Backup costs" in m.text, timeout=60)


def test_forged_unsigned_and_stale_requests_are_refused_with_401(bot, signed, slack, ddb) -> None:
    body = b"command=%2Fddb-export&text=orders&user_id=U0ALICE&team_id=T0DEMO&channel_id=C0OPS"
    assert signed.raw(body, signature="v0=" + "0" * 64).status == 401
    assert signed.raw(body, signature="").status == 401
    assert signed.raw(body, timestamp=int(time.time()) - 6 * 60).status == 401
    other = SignedSlackClient(f"{bot.url}/slack/events", "not-the-secret")
    assert other.command("/ddb-export", "orders", response_url=slack.response_url(OPS)).status == 401
    reply(slack, signed, "/ddb-status", "orders")  # a genuine request, answered after the refused ones
    wait_for_audit(bot, "/ddb-status")
    assert bot.services.core.store.audit_entries(action="/ddb-export") == []  # no refused request reached a listener
    assert export_count(ddb, "orders") == 0


def test_every_action_is_in_the_audit_log(bot, signed, slack) -> None:
    reply(slack, signed, "/ddb-export", "orders")
    entries = bot.services.core.store.audit_entries(action="export.start")
    assert entries and entries[0]["actor"] == "U0ALICE"
    assert entries[0]["parameters"]["S3Bucket"] == "acme-ddb-backups"
    assert entries[0]["result"].startswith("started ")
    assert wait_for_audit(bot, "/ddb-export")["result"] == "ok"


def test_the_tracker_finishes_an_export_that_was_in_flight_across_a_restart(start_bot: BotFactory, slack) -> None:
    first = start_bot()
    signed = SignedSlackClient(f"{first.url}/slack/events", SIGNING_SECRET)
    with exports_held() as release:
        reply(slack, signed, "/ddb-export", "orders")
        job = first.services.core.store.recent_exports("orders")[0]
        looked = first.services.tracker.wait_for_cycle(lambda r: r.checked >= 1 and r.finished == 0, timeout=60)
        assert looked is not None, "the tracker never saw the export running"
        assert first.services.core.store.get_export(job.export_arn).status == "IN_PROGRESS"  # type: ignore[union-attr]
        first.stop()  # the bot goes down while DynamoDB is still exporting
        release.set()
        wait_until_exported(job.export_arn)
    assert not [m for m in slack.messages(NOTIFY) if "COMPLETED" in m.text]
    second = start_bot()
    done = slack.wait_for(lambda m: m.channel == NOTIFY and "COMPLETED" in m.text, timeout=60)
    assert job.export_id in full_text(done)
    assert second.services.core.store.get_export(job.export_arn).status == "COMPLETED"  # type: ignore[union-attr]


def test_an_incremental_export_inside_the_pitr_window_starts(bot, signed, slack, ddb) -> None:
    from tests.support.aws_world import set_pitr_window

    now = datetime.now(UTC)
    set_pitr_window(DEFAULT_ACCOUNT, "orders", now - timedelta(days=2), now - timedelta(minutes=5))
    since = (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = full_text(reply(slack, signed, "/ddb-export", f"orders since={since} until={until}"))
    assert "Incremental" in message
    too_short = full_text(reply(slack, signed, "/ddb-export", f"orders since={since} until={since}"))
    assert "must cover 15 minutes to 24 hours" in too_short
    job = bot.services.core.store.recent_exports("orders")[0]
    assert job.export_type == "INCREMENTAL_EXPORT"
    assert export_count(ddb, "orders") == 1
