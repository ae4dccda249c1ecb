"""Logs an SRE can ship: one JSON object per line on stderr (or a readable line in text mode), UTC timestamps, the
context that matters (command, user, table, export, restore, request), exceptions as one field, secrets masked.

Libraries' routine lines (APScheduler's two lines per job run, every 5 s: 35,000 a day; Alembic's and Bolt's
start-up chatter) are lowered to DEBUG: a bot run at INFO shows what the bot itself says, DEBUG shows everything.

Every call logs an event, not a sentence: the message is a stable name, `<area>.<what_happened>` (lowercase, words
joined by `_`, one dot: "schedule.fire_started", "lease.acquired", "restore.failed"), and the values go in `extra=`
as snake_case fields (schedule_id, fire_time, export_id, restore_id, reference, error_type …), so a JSON log can be
queried by field (`select(.message == "restore.failed") | .restore_id`). docs/logs.md lists the events;
tests/unit/test_log_events.py fails on a call that puts values in its message. Fields never hold item contents.

Context is carried in contextvars: `log_context(table="orders")` adds fields to every record logged inside it, in
this thread (work handed to another thread sets its own context). The secret filter masks Slack tokens, AWS keys,
presigned-URL signatures and every secret value the settings hold, whatever logger wrote them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

CONTEXT_FIELDS = ("command", "user", "channel", "table", "export_id", "restore_id", "schedule_id", "request_id")
_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("ddbbot_log_context")
MASK = "***"
SECRET_PATTERNS = (
    re.compile(r"xox[abposr]-[A-Za-z0-9-]{6,}"),  # Slack bot, user, app and refresh tokens
    re.compile(r"xapp-[A-Za-z0-9-]{6,}"),
    re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),  # AWS access key ids
    re.compile(r"(?i)(X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential)=[^&\s\"']+"),  # presigned URLs
    re.compile(
        r"(?i)(aws_secret_access_key|secret_key|signing_secret|authorization)([\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"
    ),
)
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# Logger-name prefixes whose INFO lines are routine, shown at DEBUG only: AWS's libraries say how they work ("Found
# credentials in environment variables"), not what the bot did, so a start that fails prints its one line and nothing
# around it; APScheduler ("Running job", "Job ... executed successfully", "Added job", "Scheduler started"), Alembic
# ("Context impl", "Will assume ... DDL", "Running upgrade": the bot logs the upgrade itself), Bolt and its Socket
# Mode client ("Bolt app is running!", "A new session has been established").
CHATTY_LIBRARIES = (
    "botocore",
    "boto3",
    "urllib3",
    "s3transfer",
    "apscheduler",
    "alembic",
    "slack_bolt",
    "slack_sdk.socket_mode",
)
# Bolt warns at every start because it reads SLACK_BOT_TOKEN itself although the bot hands it a ready client.
ROUTINE_WARNINGS = ("As you gave `client` as well, `token` will be unused.",)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add fields (e.g. table=, restore_id=) to every record logged inside the block, in this thread."""
    merged = {**_context.get({}), **{k: str(v) for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, str]:
    """The fields `log_context` set in this thread, to hand to work that runs in another."""
    return dict(_context.get({}))


class SecretFilter(logging.Filter):
    """Masks secrets in the message, the arguments, the event's fields and the exception text of every record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.mask(record.getMessage())
        record.args = None
        fields = vars(record)
        for key in [k for k in fields if k not in _RESERVED]:
            fields[key] = self._field(fields[key])
        if record.exc_info:
            record.exc_text = self.mask("".join(traceback.format_exception(*record.exc_info)).rstrip())
            record.exc_info = None
        return True

    def _field(self, value: object) -> object:
        """A field's value masked; numbers stay numbers and lists stay lists, so the JSON keeps its types."""
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, list | tuple):
            return [self._field(item) for item in value]
        if isinstance(value, dict):
            return {str(k): self._field(v) for k, v in value.items()}
        return self.mask(str(value))

    def mask(self, text: str) -> str:
        """The text with every known secret value and every secret-looking token replaced."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern in SECRET_PATTERNS:
            text = pattern.sub(_masked, text)
        return text


def _masked(match: re.Match[str]) -> str:
    if match.re.groups >= 2:
        return f"{match.group(1)}{match.group(2)}{MASK}"
    if match.re.groups == 1:
        return f"{match.group(1)}={MASK}"
    return MASK


class LibraryChatter(logging.Filter):
    """Lowers the chatty libraries' INFO lines (and Bolt's routine warning) to DEBUG, then drops them below `level`.

    A filter rather than logger levels: at DEBUG the lines still appear, marked DEBUG, and a library's warnings
    and errors (a job that raised, a missed run) keep their level.
    """

    def __init__(self, level: int) -> None:
        super().__init__()
        self._level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(CHATTY_LIBRARIES):
            return True
        if record.levelno == logging.INFO or (
            record.levelno == logging.WARNING and record.getMessage() in ROUTINE_WARNINGS
        ):
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return record.levelno >= self._level


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, context, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_context.get({}))
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")})
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`2026-12-02T07:02:50.750Z INFO logger message key=value …`, the exception indented below."""

    def format(self, record: logging.LogRecord) -> str:
        moment = _utc(record)
        fields = {**_context.get({}), **{k: v for k, v in vars(record).items() if k not in _RESERVED}}
        extra = "".join(f" {k}={v}" for k, v in fields.items() if not k.startswith("_"))
        line = f"{moment} {record.levelname} {record.name} {record.getMessage()}{extra}"
        if record.exc_text:
            line += "\n    " + record.exc_text.replace("\n", "\n    ")
        return line


def _utc(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def configure_logging(
    log_format: str, *, level: int = logging.INFO, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> None:
    """Send every logger (the bot's, Bolt's, botocore's, waitress's) through one handler: stderr, or `stream` (the
    demo's log file, which keeps the logs off the console)."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(LibraryChatter(level))
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for library in CHATTY_LIBRARIES:
        logging.getLogger(library).setLevel(level if level <= logging.DEBUG else max(level, logging.WARNING))
    logging.captureWarnings(True)
