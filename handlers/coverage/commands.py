"""`/ddb-coverage`: acknowledge at once, survey in the background, answer through response_url (everyone)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.controls.service import ControlsBoard
from bot.coverage.survey import CoverageSurvey
from bot.models import Requester
from handlers.coverage.blocks import coverage_message
from handlers.coverage.parsing import COMMAND, CoverageCommand, parse_coverage
from handlers.kit.commands import Reply, Surface, run_command


def register(app: App, surface: Surface, survey: CoverageSurvey, board: ControlsBoard) -> None:
    """Wire /ddb-coverage to its listener."""
    aliases = surface.core.aws.aliases

    def parser(text: str) -> Any:
        return parse_coverage(text, aliases)

    def work(parsed: CoverageCommand, requester: Requester) -> Reply:
        operator = surface.authorizer.is_operator(requester.user_id)
        report = survey.report(parsed.scope, parsed.region)
        return Reply(coverage_message(report, operator=operator, controls=board.of(report)))

    def command_ddb_coverage(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        run_command(surface, COMMAND, ack, command, respond, parser, work)

    app.command(COMMAND)(command_ddb_coverage)
