"""Fixtures shared by the unit tests of the logs (test_logs.py, test_log_events.py)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import JsonFormatter, SecretFilter

CONFIGURED_SECRET = "the-signing-secret-value"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger through the real JSON formatter and secret filter (one secret from the settings), as
    configure_logging wires them, writing to a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(SecretFilter([CONFIGURED_SECRET]))
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
