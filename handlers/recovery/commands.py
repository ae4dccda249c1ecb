"""`/ddb-item`, `/ddb-recover`, `/ddb-revert` (operators): parse (errors and help in the ack), start the preparation,
answer privately with what was started; the result comes later, to the requester or for approval."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import App

from bot.models import Requester
from bot.recovery.asks import KeyAsk, WindowAsk
from bot.recovery.service import Recoveries
from handlers.kit.commands import Reply, Surface, command_listener
from handlers.recovery import blocks as rb
from handlers.recovery.parsing import ITEM, RECOVER, REVERT, parse_item, parse_recover, parse_revert


@dataclass
class RecoverySurface:
    """What the recovery listeners need: the command surface and the recovery use cases."""

    surface: Surface
    recoveries: Recoveries


def register(app: App, recovery_surface: RecoverySurface) -> None:
    """Wire the three commands."""
    surface, recoveries = recovery_surface.surface, recovery_surface.recoveries
    aliases = surface.core.aws.aliases

    def look_up(parsed: KeyAsk, requester: Requester) -> Reply:
        return Reply(rb.started_reply(recoveries.look_up(parsed, requester)))

    def recover(parsed: KeyAsk, requester: Requester) -> Reply:
        return Reply(rb.started_reply(recoveries.recover(parsed, requester)))

    def revert(parsed: WindowAsk, requester: Requester) -> Reply:
        return Reply(rb.started_reply(recoveries.revert(parsed, requester)))

    app.command(ITEM)(command_listener(surface, ITEM, lambda text: parse_item(text, aliases), look_up))
    app.command(RECOVER)(command_listener(surface, RECOVER, lambda text: parse_recover(text, aliases), recover))
    app.command(REVERT)(command_listener(surface, REVERT, lambda text: parse_revert(text, aliases), revert))
