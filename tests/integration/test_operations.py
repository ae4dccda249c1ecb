"""Running it like a service: /metrics moves with real work, /readyz says when the replica should not get any,
/healthz stays a pure liveness check; /metrics and /readyz are served on the metrics port only, never on the port
Slack reaches."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot.restores.models import RestoreStatus
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import OPS, SIGNING_SECRET, BotFactory
from tests.support.restore_flow import (
    APPROVER,
    RESTORE_SETTINGS,
    approval_message,
    ask,
    click,
    export_table,
    latest_request,
    wait_for_status,
    wait_until,
)
from tests.support.schedules import schedule_command, text_of
from tests.support.slack_requests import SignedSlackClient


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def scrape(bot: BotRuntime) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, by name and labels."""
    status, body = get(f"{bot.metrics_url}/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape_once(bot: BotRuntime, counted: Callable[[Samples], bool], what: str) -> Samples:
    """/metrics once `counted` holds: a handler counts its work after it answered (a command after its answer went
    through response_url), so the answer a test waited for can come a moment before the count."""

    def samples() -> Samples | None:
        found = scrape(bot)
        return found if counted(found) else None

    return wait_until(samples, what, 60)


def test_metrics_move_with_a_real_export_and_the_commands_around_it(bot: BotRuntime, signed, slack) -> None:
    before = scrape(bot)
    export_table(bot, signed, slack, "orders")
    signed.command("/ddb-status", "orders", response_url=slack.response_url(OPS))
    slack.wait_for(lambda m: m.via == "response_url" and "Exports of" in m.text, timeout=60)

    def moved(name: str, samples: Samples | None = None, **labels: str) -> float:
        return value(samples or after, name, **labels) - value(before, name, **labels)

    counted = [  # each at least once before the exact figures are read
        ("ddbbot_exports_started_total", {"table": "orders", "type": "FULL_EXPORT"}),
        ("ddbbot_exports_finished_total", {"table": "orders", "type": "FULL_EXPORT", "status": "COMPLETED"}),
        ("ddbbot_commands_total", {"command": "/ddb-export", "outcome": "ok"}),
        ("ddbbot_commands_total", {"command": "/ddb-status", "outcome": "ok"}),
        ("ddbbot_slack_api_calls_total", {"method": "chat.postMessage", "result": "ok"}),
    ]
    after = scrape_once(bot, lambda s: all(moved(name, s, **labels) > 0 for name, labels in counted), "the counts")

    assert moved("ddbbot_exports_started_total", table="orders", type="FULL_EXPORT") == 1
    assert moved("ddbbot_exports_finished_total", table="orders", type="FULL_EXPORT", status="COMPLETED") == 1
    assert moved("ddbbot_commands_total", command="/ddb-export", outcome="ok") == 1
    assert moved("ddbbot_commands_total", command="/ddb-status", outcome="ok") == 1
    assert moved("ddbbot_ack_seconds_count") >= 2
    assert moved("ddbbot_slack_api_calls_total", method="chat.postMessage", result="ok") >= 1
    assert moved("ddbbot_slack_api_calls_total", method="response_url", result="ok") >= 2
    assert value(after, "process_resident_memory_bytes") > 0
    names = {name for name, _ in after}
    assert not [n for n in names if n.startswith("ddbbot_") and "export_id" in n], "no unbounded labels"


def test_metrics_move_with_an_approved_restore_an_aws_refusal_and_the_lease(start_bot: BotFactory, slack) -> None:
    bot = start_bot(**RESTORE_SETTINGS)
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    before = scrape(bot)
    job = export_table(bot, signed, slack, "orders")
    ask(signed, slack, f"{job.export_arn} to=orders-metrics")
    message = approval_message(slack)
    click(signed, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(bot, latest_request(bot).id, {RestoreStatus.SUCCEEDED, RestoreStatus.FAILED})
    assert done.status == RestoreStatus.SUCCEEDED
    signed.command("/ddb-pitr", "nosuchtable", response_url=slack.response_url(OPS))
    slack.wait_for(lambda m: m.via == "response_url" and "not found" in m.text + json.dumps(m.blocks), timeout=60)

    def moved(name: str, samples: Samples | None = None, **labels: str) -> float:
        return value(samples or after, name, **labels) - value(before, name, **labels)

    after = scrape_once(
        bot,
        lambda s: (
            value(s, "ddbbot_lease_holder") == 1
            and moved("ddbbot_restores_total", s, mode="import", outcome="succeeded") > 0
            and value(s, "ddbbot_restores_running", mode="import") == 0
        ),
        "this replica leading and the restore counted as done",
    )

    for outcome in ("requested", "approved", "succeeded"):
        assert moved("ddbbot_restores_total", mode="import", outcome=outcome) == 1, outcome
    assert value(after, "ddbbot_restores_running", mode="import") == 0
    refused = ("ddbbot_aws_errors_total", {"service": "dynamodb", "operation": "DescribeTable"})
    assert moved(refused[0], **refused[1], code="ResourceNotFoundException") >= 1


def test_readyz_is_ready_and_says_why_not_while_healthz_stays_alive(start_bot: BotFactory) -> None:
    bot = start_bot()
    status, body = get(f"{bot.metrics_url}/readyz")
    assert status == 200 and json.loads(body)["ready"] is True
    assert set(json.loads(body)["checks"].values()) == {"ok"}
    with bot.services.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'elsewhere'"))
    status, body = get(f"{bot.metrics_url}/readyz")
    assert status == 503 and "schema is at elsewhere" in json.loads(body)["checks"]["schema"]
    assert get(f"{bot.metrics_url}/healthz") == (200, "ok\n")
    assert get(f"{bot.metrics_url}/nothing-here")[0] == 404


def test_metrics_and_readiness_are_served_on_the_metrics_port_only_and_the_slack_port_keeps_healthz(
    bot: BotRuntime, signed: SignedSlackClient, slack: Any
) -> None:
    signed.command("/ddb-pitr", "customers", response_url=slack.response_url(OPS))
    slack.wait_for(lambda m: m.via == "response_url" and "PITR is" in m.text, timeout=15)
    assert bot.url != bot.metrics_url

    assert get(f"{bot.url}/metrics")[0] == 404, "the port Slack reaches names no unprotected table"
    assert get(f"{bot.url}/readyz")[0] == 404
    assert get(f"{bot.url}/healthz") == (200, "ok\n"), "the load balancer's liveness check stays"
    status, metrics = get(f"{bot.metrics_url}/metrics")
    assert status == 200 and 'ddbbot_table_pitr_enabled{table="customers"} 0.0' in metrics
    status, body = get(f"{bot.metrics_url}/readyz")
    assert status == 200 and json.loads(body)["ready"] is True


def test_metrics_count_schedule_fires_by_kind_and_outcome_and_the_pitr_state_seen(
    bot: BotRuntime, signed: SignedSlackClient, slack: Any
) -> None:
    before = scrape(bot)
    added = text_of(schedule_command(signed, slack, 'add orders cron="0 2 * * *"'))
    schedule_id = added.split("Schedule `", 1)[1].split("`", 1)[0]
    assert "started" in text_of(schedule_command(signed, slack, f"run {schedule_id}"))
    signed.command("/ddb-pitr", "orders", response_url=slack.response_url(OPS))
    slack.wait_for(lambda m: m.via == "response_url" and "PITR" in text_of(m), timeout=60)
    after = scrape(bot)
    fired = value(after, "ddbbot_schedule_fires_total", kind="manual", outcome="started")
    assert fired - value(before, "ddbbot_schedule_fires_total", kind="manual", outcome="started") == 1
    assert value(after, "ddbbot_table_pitr_enabled", table="orders") == 1
