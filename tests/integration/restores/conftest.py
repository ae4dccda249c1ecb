"""The restore tests' bot: one running bot with approvers and an approval channel, and a signed client for it."""

from __future__ import annotations

import pytest

from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import SIGNING_SECRET, BotFactory
from tests.support.restore_flow import RESTORE_SETTINGS
from tests.support.slack_requests import SignedSlackClient


@pytest.fixture
def restore_bot(start_bot: BotFactory) -> BotRuntime:
    """A bot with RESTORE_SETTINGS (approvers, the approval channel)."""
    return start_bot(**RESTORE_SETTINGS)


@pytest.fixture
def signed_restore(restore_bot: BotRuntime) -> SignedSlackClient:
    """Slack-signed requests to `restore_bot`."""
    return SignedSlackClient(f"{restore_bot.url}/slack/events", SIGNING_SECRET)
