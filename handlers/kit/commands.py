"""The plumbing every slash command shares: acknowledge at once (usage errors and help in the ack itself), then do
the work on the few work threads and answer via response_url, audited and logged with the command's context."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, Respond

from bot.authz import Authorizer
from bot.core import Core
from bot.drills.models import DRILL_MAX_AGE, Drill
from bot.errors import BotError, UsageError
from bot.exports.tracker import ExportTracker
from bot.logs import log_context
from bot.metrics import COMMANDS
from bot.models import Requester
from bot.verification.models import Verification
from handlers.kit import blocks
from handlers.kit.parsing import HelpRequest
from handlers.kit.slack_port import respond_with

logger = logging.getLogger(__name__)


@dataclass
class Surface:
    """What the listeners need: the use cases' core, authorization, the tracker and the post-ack workers."""

    core: Core
    authorizer: Authorizer
    tracker: ExportTracker
    work: Executor  # the few threads that do the work after an ack (built and shut down by the wiring)
    last_verification: Callable[[str], Verification | None] = lambda _export_id: None  # by export id
    last_drill: Callable[[str], Drill | None] = lambda _table_key: None  # by table key
    drill_max_age: timedelta = DRILL_MAX_AGE  # DDBBOT_DRILL_MAX_AGE_DAYS


@dataclass(frozen=True)
class Reply:
    """A use case's answer and whether the whole channel should see it."""

    message: blocks.Message
    in_channel: bool = False


Parser = Callable[[str], Any]
Work = Callable[[Any, Requester], Reply]


def command_listener(surface: Surface, name: str, parser: Parser, work: Work) -> Callable[..., None]:
    """A Bolt listener running `name` through run_command, named after the command (Bolt logs it)."""

    def listener(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        run_command(surface, name, ack, command, respond, parser, work)

    listener.__name__ = f"command_{name.strip('/').replace('-', '_')}"
    return listener


def run_command(
    surface: Surface,
    name: str,
    ack: Ack,
    command: dict[str, Any],
    respond: Respond,
    parser: Parser,
    work: Work,
) -> None:
    """Parse (bad input and help are answered in the ack itself), ack, work, answer, audit."""
    text = command.get("text", "") or ""
    user = command.get("user_id", "")
    requester = Requester(user, command.get("channel_id"), command.get("response_url"))
    try:
        parsed = parser(text)
    except UsageError as error:
        ack(**blocks.error_message(error))
        surface.core.store.audit(user, name, text, {"channel": requester.channel_id}, f"usage error: {error}")
        return
    if isinstance(parsed, HelpRequest):
        ack(**blocks.help_message(parsed.help))
        return
    ack(**blocks.working(f"{name} {text}".strip()))
    surface.work.submit(finish_command, surface, name, text, parsed, requester, work, respond)


def finish_command(
    surface: Surface, name: str, text: str, parsed: Any, requester: Requester, work: Work, respond: Respond
) -> None:
    """The part after the ack: the use case, the answer through response_url, the audit entry; every log line of it
    names the command, the user, the table and a request id."""
    context = log_context(
        command=name,
        user=requester.user_id,
        channel=requester.channel_id,
        table=getattr(parsed, "table", None),
        request_id=uuid.uuid4().hex[:12],
    )
    started = time.monotonic()
    with context:
        reply, outcome = answer(parsed, requester, work, name)
        refused = respond_with(
            respond,
            reply.message,
            name,
            response_type="in_channel" if reply.in_channel else "ephemeral",
            replace_original=not reply.in_channel,
        )
        if refused is not None:  # the work may have been done, but nobody was told: the command failed
            outcome = f"failed: {refused}" + ("" if outcome == "ok" else f" (the answer said {outcome})")
        surface.core.store.audit(requester.user_id, name, text, {"channel": requester.channel_id}, outcome)
        COMMANDS.labels(name, outcome.split(":", 1)[0]).inc()
        logger.info(
            "command.answered",
            extra={"outcome": outcome.split(":", 1)[0], "seconds": round(time.monotonic() - started, 3)},
        )


def answer(parsed: Any, requester: Requester, work: Work, name: str) -> tuple[Reply, str]:
    """Run the use case, turning failures into messages; never raises."""
    try:
        return work(parsed, requester), "ok"
    except BotError as error:
        return Reply(blocks.error_message(error)), f"refused: {error}"
    except Exception:
        reference = uuid.uuid4().hex[:8]
        logger.exception("command.failed", extra={"command": name, "reference": reference})
        return Reply(blocks.unexpected_error(reference)), f"failed: reference {reference}"
