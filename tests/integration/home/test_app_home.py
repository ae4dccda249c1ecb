"""The App Home tab end to end: opening it publishes a dashboard (coverage, a restore waiting for approval with
working buttons for an approver, none for anyone else), and an approval given there runs the restore through the
same plan-bound workflow as the approval message's button."""

from __future__ import annotations

import json
from typing import Any

from bot.demo.slack_standin import SlackStandIn
from bot.restores.models import RestoreStatus
from handlers.home.blocks import HOME_APPROVE_ACTION, HOME_REJECT_ACTION
from tests.integration.conftest import SIGNING_SECRET, BotFactory
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

    return wait_until(found, f"views.publish for {user}", 15)


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
    assert ":no_entry: Only approvers may approve restores" in refused
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
