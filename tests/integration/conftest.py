"""The real bot over HTTP, AWS from moto's server, Slack from a local stand-in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.dynamodb.responses import DynamoHandler

from bot.demo.slack_standin import SlackStandIn
from bot.settings import Settings
from bot.wiring.runtime import BotRuntime
from tests.support.aws_world import build_world, client, reset_moto, start_moto
from tests.support.list_exports import moto_list_exports
from tests.support.slack_requests import SignedSlackClient

SIGNING_SECRET = "test-signing-secret-not-real"
NOTIFY = "C0NOTIFY"
OPS = "C0OPS"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """One moto server per test worker, for the whole session; tests reach it through `moto_endpoint`."""
    server, endpoint = start_moto()
    yield endpoint
    server.stop()


@pytest.fixture
def moto_endpoint(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3 finds moto through AWS_ENDPOINT_URL like any AWS endpoint, for this test only: the environment is put
    back afterwards, so no later test of the worker sees it."""
    for name, value in {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(DynamoHandler, "list_exports", moto_list_exports)  # as AWS documents it; moto needs TableArn
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return moto_server


@pytest.fixture
def world(moto_endpoint: str) -> str:
    """A fresh AWS: orders (PITR on, 3 items), customers (PITR off), bucket acme-ddb-backups."""
    reset_moto(moto_endpoint)
    build_world(moto_endpoint)
    return moto_endpoint


@pytest.fixture
def ddb(world: str) -> Any:
    """A DynamoDB client on the default account."""
    return client("dynamodb", world)


@pytest.fixture
def s3(world: str) -> Any:
    """An S3 client on the default account."""
    return client("s3", world)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    """Slack's Web API and response_url, locally."""
    with SlackStandIn() as standin:
        yield standin


def bot_settings(tmp_path: Path, slack: SlackStandIn, **overrides: Any) -> Settings:
    """Settings as an operator would set them, pointed at the stand-ins."""
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "database_url": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "export_bucket": "acme-ddb-backups",
        "notify_channel": NOTIFY,
        "poll_seconds": 0.2,
        "metrics_port": 0,  # a free port: bots of parallel tests must not race for 9095
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


BotFactory = Callable[..., BotRuntime]


@pytest.fixture
def start_bot(world: str, slack: SlackStandIn, tmp_path: Path) -> Iterator[BotFactory]:
    """Start bots (several may share one database); all are stopped at the end."""
    started: list[BotRuntime] = []

    def start(**overrides: Any) -> BotRuntime:
        runtime = BotRuntime(bot_settings(tmp_path, slack, **overrides), host="127.0.0.1", port=0).start()
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        runtime.stop()


@pytest.fixture
def bot(start_bot: BotFactory) -> BotRuntime:
    """One running bot with default settings."""
    return start_bot()


@pytest.fixture
def signed(bot: BotRuntime) -> SignedSlackClient:
    """Sends Slack-signed requests to the running bot's /slack/events."""
    return SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
