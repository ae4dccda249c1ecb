"""Structured logs: one JSON object per record with its context, exceptions as one field, secrets masked."""

from __future__ import annotations

import io
import json
import logging

from hypothesis import given
from hypothesis import strategies as st

from bot.logs import MASK, SecretFilter, TextFormatter, log_context


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_one_json_object_with_utc_time_level_logger_message_and_context(captured) -> None:
    logger, stream = captured
    with log_context(command="/ddb-export", user="U0ALICE", table="orders"), log_context(export_id="0123-ab"):
        logger.info("export %s started", "0123-ab", extra={"items": 3})
    logger.info("outside")
    inside, outside = records(stream)
    assert inside["message"] == "export 0123-ab started" and inside["level"] == "INFO"
    assert inside["logger"] == "tests.logs" and str(inside["time"]).endswith("Z")
    assert (inside["command"], inside["user"], inside["table"], inside["export_id"]) == (
        "/ddb-export",
        "U0ALICE",
        "orders",
        "0123-ab",
    )
    assert inside["items"] == 3
    assert "table" not in outside and "command" not in outside


def test_an_exception_is_one_field_on_one_line(captured) -> None:
    logger, stream = captured
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        logger.exception("it failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    (entry,) = records(stream)
    assert "Traceback" in str(entry["exception"]) and "second line" in str(entry["exception"])


def test_tokens_keys_presigned_urls_and_the_settings_secrets_are_masked(captured) -> None:
    logger, stream = captured
    logger.warning("token xoxb-1234567890-abcdefghij in %s", "the-signing-secret-value")
    logger.warning("key AKIAIOSFODNN7EXAMPLE url https://b.s3.amazonaws.com/k?X-Amz-Signature=abcdef0123&x=1")
    try:
        raise RuntimeError("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG")
    except RuntimeError:
        logger.exception("with secret")
    text = stream.getvalue()
    for secret in ("xoxb-1234567890", "the-signing-secret-value", "AKIAIOSFODNN7EXAMPLE", "abcdef0123", "wJalrXUtn"):
        assert secret not in text
    assert text.count(MASK) >= 5


@given(secret=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=8, max_size=40))
def test_any_configured_secret_never_reaches_the_log(secret: str) -> None:
    masker = SecretFilter([secret])
    record = logging.makeLogRecord({"msg": "before %s after", "args": (secret,), "levelno": logging.INFO})
    masker.filter(record)
    assert secret not in record.getMessage()


def test_text_lines_are_readable_and_carry_the_context() -> None:
    record = logging.makeLogRecord({"name": "bot.x", "msg": "hello", "levelname": "INFO", "levelno": logging.INFO})
    with log_context(restore_id="r-1"):
        line = TextFormatter().format(record)
    assert " INFO bot.x hello restore_id=r-1" in line and line[:4].isdigit()
