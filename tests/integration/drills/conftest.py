"""The drill tests' bot: one operator, everything else as in the integration suite."""

from __future__ import annotations

import pytest

from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import SIGNING_SECRET, BotFactory
from tests.support.slack_requests import SignedSlackClient

OPERATOR = "U0ALICE"


@pytest.fixture
def drill_bot(start_bot: BotFactory) -> BotRuntime:
    return start_bot(operators=[OPERATOR])


@pytest.fixture
def signed(drill_bot: BotRuntime) -> SignedSlackClient:
    return SignedSlackClient(f"{drill_bot.url}/slack/events", SIGNING_SECRET)
