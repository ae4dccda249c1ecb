"""Sharing the evidence files in a channel with Slack's file upload (files_upload_v2: an upload URL per file, the
bytes, then one completion sharing them), and Slack's refusals said as what to do."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import BotError

logger = logging.getLogger(__name__)
NOT_THERE = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
NO_FILES = frozenset({"file_uploads_disabled", "file_uploads_except_images_disabled", "file_type_not_allowed"})


@dataclass(frozen=True)
class SharedFile:
    """One file to share: its name, title and text."""

    filename: str
    title: str
    content: str


def share_files(slack: WebClient, channel: str, files: list[SharedFile], comment: str) -> None:
    """Upload `files` and share them in `channel` with `comment`; a BotError says what to fix when Slack refuses."""
    uploads = [{"content": f.content, "filename": f.filename, "title": f.title} for f in files]
    try:
        slack.files_upload_v2(file_uploads=uploads, channel=channel, initial_comment=comment)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown")
        logger.warning("report.upload_refused", extra={"slack_error": error})
        raise BotError(*_refusal(error)) from None
    except SlackClientError as exc:
        logger.warning("report.upload_failed", extra={"error_type": type(exc).__name__})
        raise BotError("Slack did not take the evidence files.", "Try again in a minute.") from None


def _refusal(error: str) -> tuple[str, str]:
    if error in NOT_THERE:
        return (
            "I cannot share files in this channel: I am not a member of it.",
            "Invite me (`/invite` and the bot's name) and ask again, or ask in a channel I am in.",
        )
    if error == "missing_scope":
        return (
            "The bot's Slack app may not upload files (scope files:write).",
            "Reinstall the app with the manifest in deploy/ to grant it.",
        )
    if error in NO_FILES:
        return ("This workspace does not allow the bot to upload these files.", "Ask a Slack admin to allow uploads.")
    return (f"Slack refused the evidence files ({error}).", "Try again in a minute.")
