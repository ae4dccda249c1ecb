"""`/ddb-schedule`: acknowledge at once, then one use case, then a Block Kit answer (changes are for operators)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.models import Requester
from bot.schedules.runs import run_now
from bot.schedules.service import (
    ScheduleCore,
    add_schedule,
    find_schedule,
    list_schedules,
    pause_schedule,
    remove_schedule,
)
from handlers.kit.commands import Reply, Surface, run_command
from handlers.schedules import blocks as schedule_blocks
from handlers.schedules import confirm
from handlers.schedules.confirm import added_reply
from handlers.schedules.parsing import COMMAND, ScheduleAction, ScheduleAdd, ScheduleList, parse_schedule


def register(app: App, surface: Surface, sc: ScheduleCore) -> None:
    """Wire /ddb-schedule to its listener."""
    aliases = surface.core.aws.aliases

    def parser(text: str) -> Any:
        return parse_schedule(text, sc.calendar, aliases)

    def work(parsed: Any, requester: Requester) -> Reply:
        return schedule(surface, sc, parsed, requester)

    def command_ddb_schedule(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        run_command(surface, COMMAND, ack, command, respond, parser, work)

    app.command(COMMAND)(command_ddb_schedule)
    confirm.register(app, surface, sc)


def schedule(
    surface: Surface, sc: ScheduleCore, parsed: ScheduleAdd | ScheduleList | ScheduleAction, requester: Requester
) -> Reply:
    """Run the parsed /ddb-schedule request."""
    if isinstance(parsed, ScheduleList):
        return Reply(schedule_blocks.schedule_list(list_schedules(sc)))
    if isinstance(parsed, ScheduleAdd):
        surface.authorizer.require_operator(requester.user_id, "add schedules")
        return added_reply(sc, add_schedule(sc, parsed.request, requester, confirmed=parsed.confirmed), parsed.request)
    actions: dict[str, Callable[[ScheduleAction, Requester], Reply]] = {
        "remove": lambda a, r: _remove(surface, sc, a, r),
        "pause": lambda a, r: _pause(surface, sc, a, r, paused=True),
        "resume": lambda a, r: _pause(surface, sc, a, r, paused=False),
        "run": lambda a, r: _run(surface, sc, a, r),
    }
    return actions[parsed.action](parsed, requester)


def _remove(surface: Surface, sc: ScheduleCore, action: ScheduleAction, requester: Requester) -> Reply:
    surface.authorizer.require_operator(requester.user_id, "remove schedules")
    return Reply(schedule_blocks.schedule_removed(remove_schedule(sc, action.schedule_id, requester)), in_channel=True)


def _pause(surface: Surface, sc: ScheduleCore, action: ScheduleAction, requester: Requester, *, paused: bool) -> Reply:
    surface.authorizer.require_operator(requester.user_id, "pause or resume schedules")
    changed_schedule, changed = pause_schedule(sc, action.schedule_id, requester, paused=paused)
    return Reply(schedule_blocks.schedule_paused(changed_schedule, changed), in_channel=True)


def _run(surface: Surface, sc: ScheduleCore, action: ScheduleAction, requester: Requester) -> Reply:
    surface.authorizer.require_operator(requester.user_id, "run schedules")
    target = find_schedule(sc, action.schedule_id)
    outcome = run_now(sc, target.id, requester)
    surface.tracker.poke()
    return Reply(schedule_blocks.run_started(target, outcome, sc.channel_for(target)), in_channel=True)
