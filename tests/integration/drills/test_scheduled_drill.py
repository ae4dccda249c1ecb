"""A drill schedule (`/ddb-schedule add … type=drill rto=…`): its fire queues a restore drill of the table's
latest full export, reported in the schedule's channel, and the drill's own result follows; drill schedules take
only `rto=`."""

from __future__ import annotations

import gzip
from typing import Any

import orjson

from bot.demo.slack_standin import SlackStandIn
from bot.drills.models import DrillStatus
from bot.drills.store import DrillStore
from bot.wiring.runtime import BotRuntime
from scheduler.jobs import fire_schedule
from tests.integration.conftest import NOTIFY, SIGNING_SECRET, BotFactory
from tests.integration.drills.test_drill import completed_export, drill_tables, plain_items, result_in
from tests.integration.verification.test_verify import b64md5, manifest_entries, rewrite_manifest
from tests.support.schedules import schedule_command, text_of
from tests.support.slack_requests import SignedSlackClient


def test_a_drill_schedule_fires_a_restore_drill_whose_result_is_posted(
    drill_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any, ddb: Any
) -> None:
    completed_export(drill_bot, signed, slack, s3)
    added = text_of(schedule_command(signed, slack, 'add orders cron="0 6 * * 1" type=drill rto=1h'))
    assert "restore drill of `orders`" in added and "Next runs: <!date^" in added
    schedule_id = added.split("Schedule `", 1)[1].split("`", 1)[0]

    started = text_of(schedule_command(signed, slack, f"run {schedule_id}"))
    assert "started" in started or "queued" in started, started
    result = result_in(slack, NOTIFY)
    assert "passed" in result.text and "(target 1h 00m)" in str(result.blocks)
    (stored,) = DrillStore(drill_bot.services.engine).history("orders")
    assert stored.status == DrillStatus.PASSED and stored.spec.rto_seconds == 3600
    assert drill_tables(ddb) == []


def test_a_drill_schedule_refuses_export_options_and_many_tables_saying_why(
    drill_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    refused = signed.command(
        "/ddb-schedule", 'add orders cron="0 6 * * 1" type=drill bucket=elsewhere', response_url=slack.response_url("x")
    )
    assert "takes only `rto=`" in refused.body
    many = text_of(schedule_command(signed, slack, 'add * cron="0 6 * * 1" type=drill'))
    assert "drills one table" in many
    assert drill_bot.services.schedules.store.all() == []


def test_a_failed_scheduled_drill_mentions_the_on_call_group(
    start_bot: BotFactory, slack: SlackStandIn, s3: Any, ddb: Any
) -> None:
    bot = start_bot(operators=["U0ALICE"], oncall="S0ONCALL")
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    job = completed_export(bot, signed, slack, s3)
    entries = manifest_entries(s3, job.location)
    entry = max(entries, key=lambda e: e["itemCount"])
    forged = gzip.compress(b"".join(orjson.dumps({"Item": i}) + b"\n" for i in plain_items(entry["itemCount"], seed=9)))
    s3.put_object(Bucket=job.bucket, Key=entry["dataFileS3Key"], Body=forged)
    entry["md5Checksum"] = b64md5(forged)
    rewrite_manifest(s3, job.location, entries)
    added = text_of(schedule_command(signed, slack, 'add orders cron="0 6 * * 1" type=drill'))
    schedule_id = added.split("Schedule `", 1)[1].split("`", 1)[0]
    fire_schedule(bot.services.schedules, lambda: True, schedule_id)  # a fire, as APScheduler makes it
    result = result_in(slack, NOTIFY)
    assert "failed" in result.text and "<!subteam^S0ONCALL>" in result.text + str(result.blocks)
    (stored,) = DrillStore(bot.services.engine).history("orders")
    assert stored.requested_by == f"schedule:{schedule_id}"
    assert drill_tables(ddb) == []
