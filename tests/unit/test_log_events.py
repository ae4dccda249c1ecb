"""Every log call of the bot is an event: a stable name as the message, the values in `extra=` fields.

The scan walks the source with `ast` (nothing is imported) and names file:line of any call that puts values in its
message (a %-format argument, an f-string, a concatenation) or whose name does not follow bot/logs.py's convention;
the formatter tests show why it matters: the fields come out as JSON keys, and secrets in them are still masked.
"""

from __future__ import annotations

import ast
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.logs import _RESERVED, MASK, SecretFilter, TextFormatter

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("bot", "handlers", "scheduler")
LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class LogCall:
    where: str
    node: ast.Call
    message: ast.expr | None
    format_args: int


def _is_logger(receiver: ast.expr) -> bool:
    """`logger`, `log`, `self.logger`, `logging` (the root logger), `logging.getLogger(...)`."""
    if isinstance(receiver, ast.Call):
        return isinstance(receiver.func, ast.Attribute | ast.Name) and ast.unparse(receiver.func).endswith("getLogger")
    name = (
        receiver.attr if isinstance(receiver, ast.Attribute) else receiver.id if isinstance(receiver, ast.Name) else ""
    )
    return name.lower().lstrip("_") in {"log", "logger", "logging"}


def log_calls_in(source: str, where: str) -> Iterator[LogCall]:
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_logger(node.func.value)):
            continue
        method = node.func.attr
        if method not in LEVELS | {"log"}:
            continue
        first = 1 if method == "log" else 0  # logger.log(level, message, ...)
        message = node.args[first] if len(node.args) > first else None
        yield LogCall(f"{where}:{node.lineno}", node, message, max(0, len(node.args) - first - 1))


def project_log_calls() -> list[LogCall]:
    calls = []
    for package in PROJECT:
        for path in sorted((ROOT / package).rglob("*.py")):
            calls.extend(log_calls_in(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))))
    return calls


def problems(call: LogCall) -> list[str]:
    """What is wrong with one call; empty when it logs an event."""
    found = []
    message = call.message
    if not (isinstance(message, ast.Constant) and isinstance(message.value, str)):
        kind = "an f-string" if isinstance(message, ast.JoinedStr) else "not a constant string"
        found.append(f"the message is {kind}: {ast.unparse(message) if message else 'missing'}")
    elif not EVENT_NAME.match(message.value):
        found.append(f"{message.value!r} is not an event name like 'area.what_happened'")
    if call.format_args:
        found.append(f"{call.format_args} %-format argument(s): put the values in extra={{...}}")
    for keyword in call.node.keywords:
        if keyword.arg == "extra" and isinstance(keyword.value, ast.Dict):
            for key in keyword.value.keys:
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                    found.append("an extra field whose name is not a constant string")
                elif key.value in _RESERVED or not FIELD_NAME.match(key.value):
                    found.append(f"extra field {key.value!r}: reserved by LogRecord or not snake_case")
    return found


def test_the_scan_finds_the_log_calls() -> None:
    calls = project_log_calls()
    assert len(calls) > 100, f"only {len(calls)} log calls found: the scan lost them"


def test_every_log_call_is_an_event_name_with_its_values_in_fields() -> None:
    bad = [f"{call.where}: {problem}" for call in project_log_calls() for problem in problems(call)]
    assert bad == [], "log calls that put values in their message:\n" + "\n".join(bad)


def test_docs_list_every_event_the_bot_logs() -> None:
    documented = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", (ROOT / "docs" / "logs.md").read_text(), re.MULTILINE))
    logged = {c.message.value for c in project_log_calls() if isinstance(c.message, ast.Constant)}
    assert sorted(logged - documented) == [], "events missing from docs/logs.md"
    assert sorted(documented - logged) == [], "docs/logs.md lists events nothing logs"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('logger.info("schedule=%s started", schedule_id)', "%-format"),
        ('log.warning(f"restore {restore_id} failed")', "f-string"),
        ('logger.error("failed: " + reason)', "not a constant"),
        ('logger.log(logging.INFO, "lease=%s held", name)', "%-format"),
        ('logging.getLogger(__name__).info("Scheduler started")', "not an event name"),
        ('self.logger.exception("restore.failed", extra={"name": name})', "reserved"),
        ('logger.info("restore.failed", extra={"restoreId": key})', "snake_case"),
    ],
)
def test_the_scan_names_a_call_that_puts_values_in_its_message(line: str, expected: str) -> None:
    (call,) = log_calls_in(line, "example.py")
    assert any(expected in problem for problem in problems(call)), problems(call)


def test_an_event_with_fields_passes_the_scan() -> None:
    (call,) = log_calls_in('logger.info("schedule.fire_started", extra={"schedule_id": s, "fire_time": t})', "x.py")
    assert problems(call) == []


def test_an_events_fields_are_json_keys_a_query_can_select(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info(
        "schedule.fire_started",
        extra={"schedule_id": "nightly", "fire_time": "2026-12-07T02:00:00Z", "export_id": "0123-ab", "tables": 3},
    )
    logger.info("demo.stopped", extra={"seconds": 0.25, "unfinished": ["slack", "aws"]})
    started, stopped = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert started["message"] == "schedule.fire_started"
    assert (started["schedule_id"], started["fire_time"], started["export_id"]) == (
        "nightly",
        "2026-12-07T02:00:00Z",
        "0123-ab",
    )
    assert started["tables"] == 3, "a number stays a number"
    assert stopped["seconds"] == 0.25 and stopped["unfinished"] == ["slack", "aws"]


def test_a_secret_put_in_a_field_is_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.error(
        "slack.post_refused",
        extra={
            "slack_error": "invalid_auth for xoxb-1234567890-abcdefghij",
            "url": "https://b.s3.amazonaws.com/k?X-Amz-Signature=abcdef0123&x=1",
            "details": ["the-signing-secret-value", "AKIAIOSFODNN7EXAMPLE"],
            "nested": {"header": "Authorization: Bearer-secret-in-header"},
        },
    )
    text = stream.getvalue()
    entry = json.loads(text)
    for secret in ("xoxb-1234567890", "abcdef0123", "the-signing-secret-value", "AKIAIOSFODNN7EXAMPLE", "Bearer"):
        assert secret not in text
    assert entry["slack_error"] == f"invalid_auth for {MASK}" and entry["details"] == [MASK, MASK]


def test_the_text_format_shows_the_fields_after_the_event_name() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter())
    handler.addFilter(SecretFilter([]))
    logger = logging.getLogger("tests.log_events.text")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("restore.failed", extra={"restore_id": "r-42", "reference": "ab12cd34"})
    finally:
        logger.removeHandler(handler)
    assert (
        stream.getvalue()
        .rstrip()
        .endswith("WARNING tests.log_events.text restore.failed restore_id=r-42 reference=ab12cd34")
    )
