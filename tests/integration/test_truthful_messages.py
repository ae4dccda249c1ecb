"""Messages that tell the truth (issue 19), end to end: signed requests to /slack/events, AWS on moto, the Slack
stand-in. Each test is one sentence a person read that was not true, or did not help, and is now."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import NOTIFY, OPS, SIGNING_SECRET, BotFactory
from tests.integration.test_core_commands import ack_text, export_count, full_text, reply, wait_for_audit
from tests.support.aws_world import create_table, exports_held
from tests.support.restore_flow import RESTORE_SETTINGS, approval_message, ask, export_table
from tests.support.schedules import schedule_command, schedules_of, text_of
from tests.support.slack_requests import SignedSlackClient
from tests.support.slash_commands import python_files, registered_commands


def shown(message: PostedMessage) -> str:
    """What a person reads: the notification text and every block, as written (not JSON-escaped)."""
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


SLACK_DATE = re.compile(r"<!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ>")


# ------------------------------------------------------------------------------------------------ exports


def test_an_export_asked_again_after_it_finished_says_when_and_how_it_finished_and_offers_force(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    reply(slack, signed, "/ddb-export", "orders")
    slack.wait_for(lambda m: m.channel == NOTIFY and "COMPLETED" in m.text, timeout=15)
    first = bot.services.core.store.recent_exports("orders")[0]

    again = full_text(reply(slack, signed, "/ddb-export", "orders"))

    assert "finished" in again and "*COMPLETED*" in again and "3 items" in again and first.export_id in again
    assert SLACK_DATE.search(again), "when it finished, in each reader's own time zone"
    assert "already under way" not in again and "I will post the result" not in again
    assert "force=true" in again and f"/ddb-status {first.export_id}" in again
    assert export_count(ddb, "orders") == 1

    fresh = full_text(reply(slack, signed, "/ddb-export", "orders force=true"))

    assert "started" in fresh and "`force=true`: a fresh export" in fresh
    assert export_count(ddb, "orders") == 2, "a fresh export, with a ClientToken of its own"
    second = bot.services.core.store.recent_exports("orders")[0]
    assert second.export_id != first.export_id and second.client_token != first.client_token
    audit = wait_for_audit(bot, "export.start")
    assert audit["parameters"]["force"] is True and audit["parameters"]["beside"] == first.export_id


def test_an_export_asked_again_while_it_runs_says_since_when(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    with exports_held():
        reply(slack, signed, "/ddb-export", "orders")
        again = full_text(reply(slack, signed, "/ddb-export", "orders"))
    assert "already under way since <!date^" in again and "Nothing new was started or billed" in again
    assert export_count(ddb, "orders") == 1


# --------------------------------------------------------------------------------------------------- PITR


def test_turning_on_pitr_that_is_already_on_says_so_to_the_asker_alone_and_changes_nothing(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    answer = reply(slack, signed, "/ddb-pitr", "orders enable")

    assert "PITR is *on* for `orders` (it already was: nothing was changed)" in answer.text
    assert "just turned on" not in full_text(answer)
    assert answer.ephemeral, "nothing changed: the channel is not told it did"
    assert wait_for_audit(bot, "pitr.enable")["result"] == "already on"

    period = full_text(reply(slack, signed, "/ddb-pitr", "orders enable days=7"))
    assert "recovery period changed from 35 days" in period and "*7 days*" in period
    description = ddb.describe_continuous_backups(TableName="orders")["ContinuousBackupsDescription"]
    assert description["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 7


# ------------------------------------------------------------------------------------------------ typos


def test_a_mistyped_table_is_answered_with_the_nearest_real_one(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    for command, text in (("/ddb-pitr", "ordres"), ("/ddb-export", "ordres"), ("/ddb-cost", "ordres")):
        answer = full_text(reply(slack, signed, command, text))
        assert "No table `ordres` in us-east-1. Did you mean `orders`?" in answer, command
    nothing_close = full_text(reply(slack, signed, "/ddb-pitr", "zzzzzz"))
    assert "No table `zzzzzz` in us-east-1." in nothing_close and "Did you mean" not in nothing_close


def test_a_table_made_after_the_names_were_listed_is_found(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    reply(slack, signed, "/ddb-pitr", "ordres")  # lists the names: `invoices` is not among them
    create_table(ddb, "invoices", pitr=True, items=[])
    assert "PITR is *on* for `invoices`" in full_text(reply(slack, signed, "/ddb-pitr", "invoices"))


def test_a_mistyped_option_subcommand_and_time_zone_get_the_nearest(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    assert "Unknown option `bukcet=`. Did you mean `bucket=`?" in ack_text(
        signed, slack, "/ddb-export", "orders bukcet=b"
    )
    assert "Did you mean `force=`?" in ack_text(signed, slack, "/ddb-export", "orders forse=true")
    assert "Did you mean `list`?" in ack_text(signed, slack, "/ddb-schedule", "lsit")
    zone = ack_text(signed, slack, "/ddb-schedule", 'add orders cron="0 2 * * *" tz=Europe/Pairs')
    assert "`tz=Europe/Pairs` is not a time zone I know. Did you mean `tz=Europe/Paris`?" in zone


# ------------------------------------------------------------------------------------------------- help


def test_ddb_help_lists_every_registered_command_with_its_own_summary(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    index = shown(reply(slack, signed, "/ddb-help", ""))
    for command in registered_commands(python_files(("handlers",))):
        assert f"`{command}` — " in index, command
    assert "Start a native Export to S3" in index, "the summary is the command's own CommandHelp"
    one = ack_text(signed, slack, "/ddb-help", "export")
    assert "/ddb-export" in one and "Usage" in one
    assert "Did you mean `/ddb-export`?" in ack_text(signed, slack, "/ddb-help", "exprot")


# -------------------------------------------------------------------------------------------- schedules


def question(slack: SlackStandIn, signed: SignedSlackClient, text: str) -> PostedMessage:
    answer = schedule_command(signed, slack, text)
    assert answer.ephemeral, text_of(answer)
    return answer


def confirm_button(message: PostedMessage) -> dict[str, Any]:
    (button,) = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    return dict(button)


def test_an_every_minute_full_export_schedule_is_asked_about_with_its_monthly_cost_before_it_is_added(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    asked = question(slack, signed, 'add orders cron="* * * * *"')
    body = shown(asked)

    assert "Before I add this schedule: it would cost *$" in body and "per month" in body
    assert "it runs a full export every 1m 00s" in body
    assert re.search(r"43,\d{3} full exports a month", body), "about 43,200 a month, with its thousands separator"
    assert schedules_of(bot).store.all() == [], "nothing is added before the person confirms"

    button = confirm_button(asked)
    url = slack.response_url(OPS, user="U0ALICE", original_ts=asked.ts)
    response = signed.click(
        button["action_id"], button["value"], message_ts=asked.ts, channel_id=OPS, user_id="U0ALICE", response_url=url
    )
    assert response.status == 200
    added = slack.wait_for(lambda m: m.channel == OPS and not m.ephemeral and "added" in m.text)
    (stored,) = schedules_of(bot).store.all()
    assert stored.cron == "* * * * *" and stored.id in added.text
    assert wait_for_audit(bot, "schedule.add")["parameters"]["confirmed"] is True


def test_a_second_schedule_of_a_table_is_asked_about_and_confirm_true_adds_it_at_once(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    first = text_of(schedule_command(signed, slack, 'add orders cron="0 2 * * *"'))
    assert "added" in first
    existing = schedules_of(bot).store.all()[0].id

    asked = text_of(question(slack, signed, 'add orders cron="0 14 * * *" type=incremental'))
    assert f"`orders` already has schedule `{existing}` (full exports" in asked
    assert len(schedules_of(bot).store.all()) == 1

    scripted = schedule_command(signed, slack, 'add orders cron="0 14 * * *" type=incremental confirm=true')
    assert not scripted.ephemeral and "added" in scripted.text
    assert len(schedules_of(bot).store.all()) == 2


# ---------------------------------------------------------------------------------- words and settings


def test_the_status_of_a_table_names_it_in_every_hint_and_shows_times_in_the_readers_zone(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    create_table(ddb, "single", pitr=True, items=[{"pk": {"S": "only"}, "sk": {"S": "a"}}])
    reply(slack, signed, "/ddb-export", "single")
    done = slack.wait_for(lambda m: m.channel == NOTIFY and "COMPLETED" in m.text, timeout=15)
    assert done.text.endswith("COMPLETED: 1 item"), done.text

    listed = shown(reply(slack, signed, "/ddb-status", "single"))

    assert "`/ddb-drill single`" in listed and "&lt;table&gt;" not in listed
    assert "1 item ·" in listed and SLACK_DATE.search(listed)


def test_no_setting_name_reaches_slack_and_the_people_who_can_help_are_mentioned(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    bot = start_bot(export_bucket=None, operators=["U0OPERATOR"])
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)

    refused = full_text(reply(slack, signed, "/ddb-export", "orders"))
    assert "Only operators may start exports" in refused and "Who can help: <@U0OPERATOR>" in refused

    no_bucket = full_text(reply(slack, signed, "/ddb-export", "orders", user_id="U0OPERATOR"))
    assert "the bot has no default bucket" in no_bucket and "ask whoever runs the bot" in no_bucket

    schedule = full_text(
        schedule_command(signed, slack, 'add orders cron="0 2 * * *" bucket=b-1', user_id="U0OPERATOR")
    )
    assert "added" in schedule
    for text in (refused, no_bucket, schedule):
        assert "DDBBOT_" not in text


def test_an_approval_request_mentions_the_requester_in_its_notification_and_counts_in_words(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    bot = start_bot(**RESTORE_SETTINGS)
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    job = export_table(bot, signed, slack, "orders")
    ask(signed, slack, f"{job.export_arn} to=orders-copy")
    message = approval_message(slack)
    assert "from <@U0ALICE> needs approval" in message.text, "a mention, not a raw id"
    blocks = json.dumps(message.blocks)
    assert "needs 1 approval" in blocks and "(s)" not in blocks and "0 GSIs" in blocks
