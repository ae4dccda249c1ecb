"""`/ddb-restore`: parse (errors and help in the ack), then check and post the request for approval."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.catalog.restore import AsOfRequest, spec_as_of
from bot.catalog.service import Catalogue
from bot.exports.status import recent_exports, table_exports
from bot.models import Requester
from bot.restores.workflow import Restores
from handlers.kit.commands import Reply, Surface, run_command
from handlers.restores import blocks as restore_blocks
from handlers.restores import form_blocks as restore_form_blocks
from handlers.restores.parsing import COMMAND, RestoreCommand, RestoreListing, parse_restore


@dataclass
class RestoreSurface:
    """What the restore listeners need: the command surface (for auditing) and the restore workflow."""

    surface: Surface
    restores: Restores
    catalogue: Catalogue


def register(app: App, restore_surface: RestoreSurface) -> None:
    """Wire /ddb-restore."""
    aliases = restore_surface.surface.core.aws.aliases

    def command_ddb_restore(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        run_command(
            restore_surface.surface,
            COMMAND,
            ack,
            command,
            respond,
            lambda text: parse_restore(text, aliases),
            lambda parsed, requester: restore(restore_surface, parsed, requester),
        )

    app.command(COMMAND)(command_ddb_restore)


def restore(
    restore_surface: RestoreSurface, parsed: RestoreCommand | RestoreListing | AsOfRequest, requester: Requester
) -> Reply:
    """A listing of exports to pick from, or a checked request posted for approval (for `<table> at=`, of the
    exports or PITR restore the bot picked)."""
    core = restore_surface.restores.core
    if isinstance(parsed, AsOfRequest):
        parsed = RestoreCommand(spec_as_of(restore_surface.catalogue, parsed))
    if isinstance(parsed, RestoreListing):
        if parsed.table is None:
            return Reply(
                restore_form_blocks.export_choices("Recent exports (all tables)", recent_exports(core, limit=25))
            )
        ref, jobs = table_exports(core, parsed.table)
        return Reply(restore_form_blocks.export_choices(f"Exports of {ref.display}", jobs))
    requested = restore_surface.restores.request(parsed.spec, requester)
    return Reply(restore_blocks.requested_reply(requested))
