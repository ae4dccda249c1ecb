"""/ddb-schedule end to end: signed requests, the real scheduler, AWS on moto, Slack stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from bot.demo.slack_standin import SlackStandIn
from bot.models import ExportStatus
from bot.schedules.models import RunKind
from bot.schedules.store import schedules
from tests.integration.conftest import NOTIFY, SIGNING_SECRET, BotFactory
from tests.support.aws_world import exports_held
from tests.support.schedules import runner_of, schedule_command, schedules_of, text_of, wait_until
from tests.support.slack_requests import SignedSlackClient


def signed_for(bot: Any) -> SignedSlackClient:
    return SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)


def added_id(text: str) -> str:
    return text.split("Schedule `", 1)[1].split("`", 1)[0]


def test_a_schedule_added_from_slack_fires_and_its_result_reaches_the_notification_channel(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    bot = start_bot()
    signed = signed_for(bot)
    added = text_of(schedule_command(signed, slack, 'add orders cron="* * * * * *" prefix=every-second'))
    assert "added" in added and "Next runs" in added and "per month" in added
    schedule_id = added_id(added)
    result = slack.wait_for(lambda m: m.channel == NOTIFY and "COMPLETED" in m.text, timeout=60)
    body = text_of(result)
    assert (
        f"schedule `{schedule_id}`" in body
        and "Items: *3*" in body
        and "s3://acme-ddb-backups/every-second/orders/" in body
    )
    removed = text_of(schedule_command(signed, slack, f"remove {schedule_id}"))
    assert "removed" in removed
    wait_until(lambda: schedule_id not in runner_of(bot).next_run_times(), "the scheduler to drop the job")
    jobs = schedules_of(bot).core.store.schedule_exports(schedule_id)
    assert len({job.client_token for job in jobs}) == len(jobs), "one export per fire"


def test_a_cron_restricting_both_day_fields_fires_on_either_and_the_next_three_fires_are_shown(
    bot: Any, slack: SlackStandIn
) -> None:
    signed = signed_for(bot)

    def next_runs(now: datetime) -> str:
        days = (now.replace(hour=2, minute=0, second=0, microsecond=0) + timedelta(days=n) for n in range(40))
        expected = [d for d in days if d > now and (d.day == 1 or d.weekday() == 0)][:3]  # cron ORs the two fields
        return f"Next runs: {', '.join(f'{d:%Y-%m-%dT%H:%M:%SZ}' for d in expected)}"

    before = datetime.now(UTC)
    added = text_of(schedule_command(signed, slack, 'add orders cron="0 2 1 * 1"'))
    listing = text_of(schedule_command(signed, slack, "list"))
    after = datetime.now(UTC)
    # the bot reads its clock in between: both answers show the runs as of before or after (the same unless a fire
    # time passed while the commands ran)
    assert next_runs(before) in added or next_runs(after) in added
    assert next_runs(before) in listing or next_runs(after) in listing


def test_list_shows_the_next_run_the_last_result_and_a_monthly_cost_even_when_slack_answers_429(
    bot: Any, slack: SlackStandIn
) -> None:
    signed = signed_for(bot)
    schedule_id = added_id(text_of(schedule_command(signed, slack, 'add orders cron="0 2 * * *" tz=Europe/Paris')))
    run = text_of(schedule_command(signed, slack, f"run {schedule_id}"))
    assert "started" in run and f"<#{NOTIFY}>" in run
    slack.wait_for(lambda m: m.channel == NOTIFY and "COMPLETED" in m.text, timeout=60)
    slack.fail_next("response_url", 429, retry_after=1, count=1)  # Bolt's own respond() would drop the answer
    listing = text_of(schedule_command(signed, slack, "list"))
    assert schedule_id in listing and "Europe/Paris" in listing
    assert listing.count("T00:00:00Z (") + listing.count("T01:00:00Z (") == 3, "the next three fires, 02:00 Paris"
    assert "Next runs: 20" in listing and "completed" in listing
    assert "30 full exports a month" in listing and "per month" in listing
    assert [c.status for c in slack.calls if c.method == "response_url"].count(429) == 1


def test_changing_schedules_is_for_operators_anyone_may_list_and_a_bad_cron_says_how_to_write_one(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    bot = start_bot(operators=["U0BOB"])
    signed = signed_for(bot)
    refused = text_of(schedule_command(signed, slack, 'add orders cron="0 2 * * *"', user_id="U0ALICE"))
    assert "Only operators may add schedules" in refused
    assert "No schedules yet" in text_of(schedule_command(signed, slack, "list", user_id="U0ALICE"))
    bad = text_of(schedule_command(signed, slack, 'add orders cron="61 2 * * *"', user_id="U0BOB"))
    assert 'e.g. cron="0 2 * * *"' in bad and "/ddb-schedule add &lt;table&gt;" in bad
    assert "added" in text_of(schedule_command(signed, slack, 'add orders cron="0 2 * * *"', user_id="U0BOB"))


def test_config_schedules_are_synced_at_start_and_cannot_be_removed_from_slack(
    start_bot: BotFactory, slack: SlackStandIn, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[schedules]]\nid = "nightly"\ntable = "orders"\ncron = "0 2 * * *"\nprefix = "nightly"\n')
    bot = start_bot(config_file=config)
    signed = signed_for(bot)
    assert "from config" in text_of(schedule_command(signed, slack, "list"))
    refused = text_of(schedule_command(signed, slack, "remove nightly"))
    assert "declared in the bot's config file" in refused
    assert "paused" in text_of(schedule_command(signed, slack, "pause nightly"))
    assert "nightly" not in runner_of(bot).next_run_times()
    assert "resumed" in text_of(schedule_command(signed, slack, "resume nightly"))
    assert "nightly" in runner_of(bot).next_run_times()


def test_schedules_survive_a_restart_and_a_fire_missed_meanwhile_is_made_once_as_a_catch_up(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    first = start_bot()
    schedule_id = added_id(text_of(schedule_command(signed_for(first), slack, 'add orders cron="0 * * * *"')))
    first.stop()
    sc = schedules_of(first)
    with sc.store.engine.begin() as connection:  # the bot was down for three hours
        connection.execute(
            update(schedules)
            .where(schedules.c.id == schedule_id)
            .values(active_since=sc.core.clock() - timedelta(hours=3))
        )
    second = start_bot()
    wait_until(lambda: runner_of(second).running, "the new bot to lead")
    assert schedule_id in runner_of(second).next_run_times()
    assert schedule_id in text_of(schedule_command(signed_for(second), slack, "list"))
    note = slack.wait_for(lambda m: m.channel == NOTIFY and "Catch-up run" in m.text, timeout=60)
    assert "missed while the bot was down" in text_of(note)
    slack.wait_for(lambda m: m.channel == NOTIFY and "COMPLETED" in m.text, timeout=60)
    second.stop()
    start_bot()  # and a third start makes up nothing more
    runs = sc.store.runs(schedule_id)
    assert [run.kind for run in runs] == [RunKind.CATCH_UP]
    assert runs[0].fire_time == sc.calendar.latest_fire("0 * * * *", "UTC", sc.core.clock())


def test_an_export_in_flight_when_the_bot_stopped_is_reported_after_restart(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    first = start_bot()
    schedule_id = added_id(text_of(schedule_command(signed_for(first), slack, 'add orders cron="0 4 * * *"')))
    with exports_held() as release:
        schedule_command(signed_for(first), slack, f"run {schedule_id}")
        first.stop()
        job = schedules_of(first).core.store.schedule_exports(schedule_id)[0]
        assert job.status == ExportStatus.IN_PROGRESS
        second = start_bot()
        release.set()
        result = slack.wait_for(lambda m: m.channel == NOTIFY and job.export_id in m.text, timeout=60)
    assert "COMPLETED" in result.text
    assert schedules_of(second).core.store.get_export(job.export_arn).status == ExportStatus.COMPLETED  # type: ignore[union-attr]


def test_a_run_that_cannot_start_says_what_to_fix_and_mentions_on_call(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    bot = start_bot(oncall="S0ONCALL")
    signed = signed_for(bot)
    added = text_of(schedule_command(signed, slack, 'add customers cron="* * * * * *" channel=C0BACKUPS'))
    assert "PITR is off" in added
    failure = slack.wait_for(lambda m: m.channel == "C0BACKUPS" and "did not start" in text_of(m), timeout=60)
    body = text_of(failure)
    assert "<!subteam^S0ONCALL>" in body and "/ddb-pitr customers enable" in body
    schedule_command(signed, slack, f"pause {added_id(added)}")
