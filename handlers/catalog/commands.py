"""`/ddb-catalog <table> [at=<time>]` (everyone): acknowledge, look through the export buckets and answer through
response_url."""

from __future__ import annotations

from slack_bolt import App

from bot.catalog.service import Catalogue, restore_chain, table_listing
from bot.models import Requester
from handlers.catalog.blocks import catalog_listing, chain_message
from handlers.catalog.parsing import COMMAND, CatalogCommand, parse_catalog
from handlers.kit.commands import Reply, Surface, command_listener


def register(app: App, surface: Surface, catalogue: Catalogue) -> None:
    """Wire /ddb-catalog to its listener."""
    aliases = surface.core.aws.aliases

    def work(command: CatalogCommand, requester: Requester) -> Reply:
        if command.at is None:
            return Reply(catalog_listing(table_listing(catalogue, command.table)))
        return Reply(chain_message(restore_chain(catalogue, command.table, command.at)))

    app.command(COMMAND)(command_listener(surface, COMMAND, lambda t: parse_catalog(t, aliases), work))
