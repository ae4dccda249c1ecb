"""One listener per slash command: acknowledge at once, then do the AWS work and answer via response_url."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.authz import Authorizer
from bot.core import Core
from bot.costs import cost_report, export_cost
from bot.drills.models import DRILL_MAX_AGE, Drill
from bot.errors import BotError, UsageError
from bot.exports.start import start_export
from bot.exports.status import export_detail, looks_like_export, recent_exports, table_exports
from bot.exports.tracker import ExportTracker
from bot.logs import log_context
from bot.metrics import COMMANDS
from bot.models import Requester
from bot.pitr import enable_pitr, pitr_status
from bot.verification.models import Verification
from handlers import blocks
from handlers.drills.blocks import last_drill_block
from handlers.parsing import (
    CostCommand,
    ExportCommand,
    HelpRequest,
    PitrCommand,
    StatusCommand,
    parse_cost,
    parse_export,
    parse_pitr,
    parse_status,
)
from handlers.verification.blocks import last_verification_block

logger = logging.getLogger(__name__)


WORK_THREADS = 8
_work_pool: ThreadPoolExecutor | None = None
_work_pool_lock = threading.Lock()


def work_pool() -> ThreadPoolExecutor:
    """The few threads that do AWS work after an ack. Few on purpose: under load, dozens of busy threads
    would fight for the GIL with the threads that must acknowledge Slack within 3 seconds."""
    global _work_pool
    with _work_pool_lock:
        if _work_pool is None:
            _work_pool = ThreadPoolExecutor(max_workers=WORK_THREADS, thread_name_prefix="work")
        return _work_pool


@dataclass
class Surface:
    """What the listeners need: the use cases' core, authorization, the tracker and the post-ack workers."""

    core: Core
    authorizer: Authorizer
    tracker: ExportTracker
    work: Executor = field(default_factory=work_pool)
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


def register(app: App, surface: Surface) -> None:
    """Wire every slash command of the core to its listener."""
    aliases = surface.core.aws.aliases
    commands: dict[str, tuple[Parser, Work]] = {
        "/ddb-pitr": (lambda t: parse_pitr(t, aliases), lambda c, r: pitr(surface, c, r)),
        "/ddb-export": (lambda t: parse_export(t, aliases), lambda c, r: export(surface, c, r)),
        "/ddb-status": (lambda t: parse_status(t, aliases), lambda c, r: status(surface, c, r)),
        "/ddb-cost": (lambda t: parse_cost(t, aliases), lambda c, r: cost(surface, c, r)),
    }
    for name, (parser, work) in commands.items():
        app.command(name)(_listener(surface, name, parser, work))


def _listener(surface: Surface, name: str, parser: Parser, work: Work) -> Callable[..., None]:
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
        try:
            respond(
                **reply.message,
                response_type="in_channel" if reply.in_channel else "ephemeral",
                replace_original=not reply.in_channel,
            )
        except Exception:
            logger.exception("could not answer command=%s through response_url", name)
            outcome += " (answer not delivered)"
        surface.core.store.audit(requester.user_id, name, text, {"channel": requester.channel_id}, outcome)
        COMMANDS.labels(name, outcome.split(":", 1)[0]).inc()
        logger.info(
            "command %s answered: %s",
            name,
            outcome.split(":", 1)[0],
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
        logger.exception("command failed command=%s reference=%s", name, reference)
        return Reply(blocks.unexpected_error(reference)), f"failed: reference {reference}"


def pitr(surface: Surface, command: PitrCommand, requester: Requester) -> Reply:
    """/ddb-pitr: status, or enable (operators)."""
    if command.enable:
        surface.authorizer.require_operator(requester.user_id, "turn on point-in-time recovery")
        return Reply(
            blocks.pitr_message(enable_pitr(surface.core, command.table, command.days, requester.user_id)),
            in_channel=True,
        )
    report = pitr_status(surface.core, command.table)
    shown = blocks.pitr_message(report)
    drilled = last_drill_block(surface.last_drill(report.table.ref.key), surface.core.clock(), surface.drill_max_age)
    return Reply({**shown, "blocks": blocks.fit_blocks([*shown["blocks"], drilled])})


def export(surface: Surface, command: ExportCommand, requester: Requester) -> Reply:
    """/ddb-export (operators): pre-flight, start, and let the tracker follow it."""
    surface.authorizer.require_operator(requester.user_id, "start exports")
    started = start_export(surface.core, command.table, command.options, requester)
    surface.tracker.poke()
    return Reply(blocks.export_started(started.job, started.new), in_channel=True)


def status(surface: Surface, command: StatusCommand, requester: Requester) -> Reply:
    """/ddb-status: all tables, one table, or one export."""
    core = surface.core
    if command.target is None:
        return Reply(blocks.status_list("Recent exports (all tables)", recent_exports(core)))
    if looks_like_export(command.target) or core.store.find_export(command.target) is not None:
        job = export_detail(core, command.target)
        rates = core.prices.rates(job.region)
        detail = blocks.export_detail(job, export_cost(job, rates), rates)
        verified = last_verification_block(surface.last_verification(job.export_id))
        return Reply({**detail, "blocks": blocks.fit_blocks([*detail["blocks"], verified])})
    ref, jobs = table_exports(core, command.target)
    listed = blocks.status_list(f"Exports of {ref.display}", jobs)
    drilled = last_drill_block(surface.last_drill(ref.key), core.clock(), surface.drill_max_age)
    return Reply({**listed, "blocks": blocks.fit_blocks([*listed["blocks"], drilled])})


def cost(surface: Surface, command: CostCommand, requester: Requester) -> Reply:
    """/ddb-cost: what backups of a table cost."""
    return Reply(blocks.cost_message(cost_report(surface.core, command.table)))
