"""`/ddb-report`: acknowledge at once, survey and judge the controls in the background, share the evidence files
in the channel, answer through response_url (everyone may ask: the files show what `/ddb-coverage` shows anyone)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.controls.evidence import evidence_csv, evidence_markdown
from bot.controls.service import ControlsBoard
from bot.coverage.survey import CoverageSurvey
from bot.errors import BotError
from bot.models import Requester
from bot.timefmt import stamp
from handlers.controls.blocks import evidence_comment, report_message
from handlers.controls.parsing import COMMAND, parse_report
from handlers.controls.sharing import SharedFile, share_files
from handlers.coverage.parsing import CoverageCommand
from handlers.kit.commands import Reply, Surface, run_command
from handlers.kit.text import user


def register(app: App, surface: Surface, survey: CoverageSurvey, board: ControlsBoard, slack: WebClient) -> None:
    """Wire /ddb-report to its listener."""
    aliases = surface.core.aws.aliases

    def parser(text: str) -> Any:
        return parse_report(text, aliases)

    def work(parsed: CoverageCommand, requester: Requester) -> Reply:
        if not requester.channel_id:
            raise BotError("I can only share the evidence files in a channel.", "Ask in a channel I am a member of.")
        report = board.of(survey.report(parsed.scope, parsed.region))
        scope = parsed.scope + (f" {parsed.region}" if parsed.region else "")
        name = f"ddb-controls-{parsed.scope}{f'-{parsed.region}' if parsed.region else ''}-{stamp(report.at)}"
        files = [
            SharedFile(f"{name}.csv", f"Backup controls evidence {scope} (CSV)", evidence_csv(report)),
            SharedFile(f"{name}.md", f"Backup controls evidence {scope} (summary)", evidence_markdown(report, scope)),
        ]
        share_files(slack, requester.channel_id, files, evidence_comment(scope, report, user(requester.user_id)))
        return Reply(report_message(report, scope))

    def command_ddb_report(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        run_command(surface, COMMAND, ack, command, respond, parser, work)

    app.command(COMMAND)(command_ddb_report)
