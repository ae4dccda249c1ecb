"""Tests drive the bot with the demo's signed-request client, so there is one implementation to trust."""

from bot.demo.slack_requests import SignedSlackClient, SlackHttpResponse

__all__ = ["SignedSlackClient", "SlackHttpResponse"]
