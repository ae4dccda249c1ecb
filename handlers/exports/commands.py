"""`/ddb-export` (operators) and `/ddb-status`: start an export and let the tracker follow it; recent exports of all
tables, of one table, or one export in detail."""

from __future__ import annotations

from slack_bolt import App

from bot.costs import export_price
from bot.exports.start import start_export
from bot.exports.status import export_detail, looks_like_export, recent_exports, table_exports
from bot.models import Requester
from handlers.drills.blocks import last_drill_block
from handlers.exports import blocks
from handlers.exports.parsing import ExportCommand, StatusCommand, parse_export, parse_status
from handlers.kit.blocks import fit_blocks
from handlers.kit.commands import Reply, Surface, command_listener
from handlers.verification.blocks import last_verification_block


def register(app: App, surface: Surface) -> None:
    """Wire /ddb-export and /ddb-status to their listeners."""
    aliases = surface.core.aws.aliases
    app.command("/ddb-export")(
        command_listener(surface, "/ddb-export", lambda t: parse_export(t, aliases), lambda c, r: export(surface, c, r))
    )
    app.command("/ddb-status")(
        command_listener(surface, "/ddb-status", lambda t: parse_status(t, aliases), lambda c, r: status(surface, c, r))
    )


def export(surface: Surface, command: ExportCommand, requester: Requester) -> Reply:
    """/ddb-export (operators): pre-flight, start, and let the tracker follow it."""
    surface.authorizer.require_operator(requester.user_id, "start exports")
    started = start_export(surface.core, command.table, command.options, requester, force=command.force)
    surface.tracker.poke()
    return Reply(blocks.export_started(started), in_channel=started.new)


def status(surface: Surface, command: StatusCommand, requester: Requester) -> Reply:
    """/ddb-status: all tables, one table, or one export."""
    core = surface.core
    if command.target is None:
        return Reply(blocks.status_list("Recent exports (all tables)", recent_exports(core)))
    if looks_like_export(command.target) or core.store.find_export(command.target) is not None:
        job = export_detail(core, command.target)
        price = export_price(core, job)
        detail = blocks.export_detail(job, price.cost, price.basis)
        verified = last_verification_block(surface.last_verification(job.export_id), job.export_id)
        return Reply({**detail, "blocks": fit_blocks([*detail["blocks"], verified])})
    ref, jobs = table_exports(core, command.target)
    listed = blocks.status_list(f"Exports of {ref.display}", jobs, ref.display)
    drilled = last_drill_block(surface.last_drill(ref.key), ref.display, core.clock(), surface.drill_max_age)
    return Reply({**listed, "blocks": fit_blocks([*listed["blocks"], drilled])})
