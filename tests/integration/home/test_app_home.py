"""The App Home tab end to end: opening it publishes a dashboard (coverage, a restore waiting for approval with
working buttons for an approver, none for anyone else), and an approval given there runs the restore through the
same plan-bound workflow as the approval message's button."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.demo.slack_standin import SlackStandIn
from bot.restores.models import RestoreStatus
from handlers.home.blocks import HOME_APPROVE_ACTION, HOME_REJECT_ACTION
from tests.integration.conftest import SIGNING_SECRET, BotFactory
from tests.support.export_fixtures import write_full_export, write_incremental_export
from tests.support.restore_flow import (
    APPROVER,
    OUTSIDER,
    RESTORE_SETTINGS,
    approval_message,
    ask,
    export_table,
    latest_request,
    wait_for_status,
    wait_until,
)
from tests.support.slack_requests import SignedSlackClient


def published_home(slack: SlackStandIn, user: str, after: int) -> dict[str, Any]:
    """The next views.publish for `user` after the first `after` calls."""

    def found() -> dict[str, Any] | None:
        for call in slack.calls[after:]:
            if call.method == "views.publish" and call.params.get("user_id") == user and call.status == 200:
                view = call.params["view"]
                return json.loads(view) if isinstance(view, str) else view
        return None

    return wait_until(found, f"views.publish for {user}", 60)


def home_buttons(view: dict[str, Any]) -> dict[str, str]:
    return {
        element["action_id"]: element["value"]
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


def test_the_home_tab_shows_coverage_and_lets_an_approver_approve_a_waiting_restore(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    bot = start_bot(**RESTORE_SETTINGS)
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    job = export_table(bot, signed, slack, "orders")
    ask(signed, slack, f"{job.export_arn} to=orders-from-home")
    approval_message(slack)
    request = latest_request(bot)

    mark = len(slack.calls)
    assert signed.event({"type": "app_home_opened", "user": OUTSIDER, "channel": "D0HOME", "tab": "home"}).status == 200
    outsider_view = published_home(slack, OUTSIDER, mark)
    text = json.dumps(outsider_view)
    assert "*Coverage*: 2 tables" in text and "1 without PITR" in text and request.id in text
    assert home_buttons(outsider_view) == {}, "no buttons for someone who may not approve"

    mark = len(slack.calls)
    signed.event({"type": "app_home_opened", "user": APPROVER, "channel": "D0HOME", "tab": "home"})
    buttons = home_buttons(published_home(slack, APPROVER, mark))
    assert set(buttons) == {HOME_APPROVE_ACTION, HOME_REJECT_ACTION}

    mark = len(slack.calls)
    assert signed.home_click(HOME_APPROVE_ACTION, buttons[HOME_APPROVE_ACTION], user_id=APPROVER).status == 200
    refreshed = json.dumps(published_home(slack, APPROVER, mark))
    assert f"You approved `{request.id}`" in refreshed
    done = wait_for_status(bot, request.id, {RestoreStatus.SUCCEEDED, RestoreStatus.FAILED})
    assert done.status == RestoreStatus.SUCCEEDED
    approvals = bot.services.restores.store.approvals(request.id)
    assert [a.approver for a in approvals] == [APPROVER], "the approval given in Home counts"


def test_a_click_from_home_by_someone_who_may_not_approve_is_refused_and_changes_nothing(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    bot = start_bot(**RESTORE_SETTINGS)
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    job = export_table(bot, signed, slack, "orders")
    ask(signed, slack, f"{job.export_arn} to=orders-from-home")
    approval_message(slack)
    request = latest_request(bot)
    mark = len(slack.calls)
    signed.home_click(HOME_APPROVE_ACTION, request.button_value, user_id=OUTSIDER)
    refused = json.dumps(published_home(slack, OUTSIDER, mark))
    assert ":no_entry_sign:" in refused
    stored = bot.services.restores.store.get(request.id)
    assert stored is not None and stored.status == RestoreStatus.PENDING


def test_an_open_home_tab_is_published_again_when_what_it_shows_changes_and_only_then(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    bot = start_bot(**RESTORE_SETTINGS)
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    job = export_table(bot, signed, slack, "orders")
    mark = len(slack.calls)
    signed.event({"type": "app_home_opened", "user": APPROVER, "channel": "D0HOME", "tab": "home"})
    published_home(slack, APPROVER, mark)
    assert bot.services.home.refresh() == 0, "nothing changed: nothing published"

    ask(signed, slack, f"{job.export_arn} to=orders-while-watching")
    approval_message(slack)
    request = latest_request(bot)
    mark = len(slack.calls)
    assert bot.services.home.refresh() == 1
    assert request.id in json.dumps(published_home(slack, APPROVER, mark)), "the new request shows without reopening"
    assert bot.services.home.refresh() == 0


def test_an_approver_in_home_sees_the_same_plan_summary_as_the_approval_message(
    start_bot: BotFactory, slack: SlackStandIn, s3: Any, ddb: Any
) -> None:
    bot = start_bot(**RESTORE_SETTINGS, restore_rate="500/s")
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    t0 = datetime(2026, 1, 14, 10, tzinfo=UTC)
    items = [{"pk": {"S": f"o{i}"}, "sk": {"S": "v"}} for i in range(6)]
    full = write_full_export(s3, "acme-ddb-backups", "h", items, files=1, export_time=t0, checksums=None)
    change = ({"pk": {"S": "o1"}, "sk": {"S": "v"}}, None, items[1])
    incremental = write_incremental_export(s3, "acme-ddb-backups", "h", [change], t0, t0 + timedelta(hours=1), files=1)
    ask(signed, slack, f"{full.url} {incremental.url} into=customers")  # exports of `source`, not of customers
    message = approval_message(slack)
    request = latest_request(bot)

    mark = len(slack.calls)
    signed.event({"type": "app_home_opened", "user": APPROVER, "channel": "D0HOME", "tab": "home"})
    home = published_home(slack, APPROVER, mark)

    summary = [b for b in message.blocks if b["type"] in {"section", "context"}][1:]  # after the request line
    start = next(i for i, b in enumerate(home["blocks"]) if request.id in json.dumps(b))
    assert home["blocks"][start + 1 : start + 1 + len(summary)] == summary
    shown = json.dumps(summary, ensure_ascii=False)
    for line in (
        "*Target:* `customers`",
        "*Write rate:* at most 500 write units/s",
        "*Read from bucket:* `acme-ddb-backups`",
        ":warning: *Not verified:*",
        "The source table differs from the target: the export(s) are of `source`",
        "changes from 2026-01-14T10:00:00Z to 2026-01-14T11:00:00Z",
        "*Estimated cost:*",
    ):
        assert line in shown, line
