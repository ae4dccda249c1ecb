"""Fifty schedules firing in the same second, while Slack answers some posts with 429: no message is lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.demo.slack_standin import SlackStandIn
from tests.integration.conftest import NOTIFY, BotFactory
from tests.support.schedules import schedules_of, wait_until

SCHEDULES = 50


def test_fifty_schedules_firing_together_lose_no_message_when_slack_answers_429(
    start_bot: BotFactory, slack: SlackStandIn, tmp_path: Path
) -> None:
    # The fire is 10 s ahead: the bot must have read its config by then (3 s was close on a busy machine), or the
    # first fire is a minute later. The bot starts within those 10 s and the results are waited for 45 s at most,
    # so it is stopped within 55 s, before the next minute (70 s from now) fires the schedules again.
    second = (datetime.now(UTC) + timedelta(seconds=10)).second
    config = tmp_path / "fifty.toml"
    config.write_text(
        "".join(
            f'[[schedules]]\nid = "load-{i:02d}"\ntable = "orders"\ncron = "{second} * * * * *"\nprefix = "load/{i}"\n\n'
            for i in range(SCHEDULES)
        )
    )
    slack.fail_next("chat.postMessage", 429, retry_after=1, count=2)
    bot = start_bot(config_file=config)
    sc = schedules_of(bot)

    def results() -> list[str] | None:
        texts = [m.text for m in slack.messages(NOTIFY) if "COMPLETED" in m.text]
        return texts if len(texts) >= SCHEDULES else None

    wait_until(results, f"{SCHEDULES} results in the notification channel", timeout=45)
    bot.stop()  # before the next minute fires them again
    posted = [m.text for m in slack.messages(NOTIFY) if "COMPLETED" in m.text]
    jobs = [job for i in range(SCHEDULES) for job in sc.core.store.schedule_exports(f"load-{i:02d}")]
    assert len(jobs) == SCHEDULES, "one export per schedule and fire"
    assert len({job.export_id for job in jobs}) == SCHEDULES
    assert sorted(posted) == sorted(f"Export {j.export_id} of orders COMPLETED: 3 items" for j in jobs)
    assert len({run.fire_time for i in range(SCHEDULES) for run in sc.store.runs(f"load-{i:02d}")}) == 1
    throttled = [call for call in slack.calls if call.method == "chat.postMessage" and call.status == 429]
    assert len(throttled) == 2, "Slack did answer 429, and every message still arrived"
