"""/ddb-cost when the AWS Price List API cannot be reached: built-in, dated prices in the message, the cause in
the log (never an endpoint URL or an error page in what people read)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from bot.aws.pricing import EMBEDDED_PRICES_AS_OF
from bot.demo.slack_standin import SlackStandIn
from tests.integration.conftest import OPS, SIGNING_SECRET, BotFactory
from tests.support.slack_requests import SignedSlackClient


@pytest.fixture
def unreachable_pricing(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The Price List endpoint is a port that is bound but not listening: every connection is refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{held.getsockname()[1]}"
        monkeypatch.setenv("AWS_ENDPOINT_URL_PRICING", url)
        yield url


def test_cost_without_the_price_list_says_built_in_prices_and_logs_why(
    unreachable_pricing: str, start_bot: BotFactory, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    bot = start_bot()
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    caplog.set_level("WARNING", logger="bot.aws.pricing")

    response = signed.command("/ddb-cost", "orders", response_url=slack.response_url(OPS))
    assert response.status == 200, response.body
    answer = slack.wait_for(lambda m: m.channel == OPS and "PITR" in json.dumps(m.blocks), timeout=60)

    shown = answer.text + json.dumps(answer.blocks)
    assert f"list prices built in, dated {EMBEDDED_PRICES_AS_OF}" in shown
    for raw in ("EndpointConnectionError", "Could not connect", unreachable_pricing, "http://"):
        assert raw not in shown, raw
    causes = [r for r in caplog.records if r.name == "bot.aws.pricing"]
    assert [(r.getMessage(), r.region) for r in causes] == [("pricing.price_list_unavailable", "us-east-1")]
    assert "EndpointConnectionError" in causes[0].reason
