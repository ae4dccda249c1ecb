"""The one place that builds every service from Settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
from botocore.config import Config
from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.authz import Authorizer
from bot.aws import DEFAULT_REGION, AwsAccounts
from bot.config import load_config
from bot.core import Core, ExportDefaults
from bot.db import create_schema, make_engine
from bot.pricing import PriceBook
from bot.restore_wiring import wire_restores
from bot.schedule_wiring import wire_schedules
from bot.settings import Settings
from bot.store import Store
from bot.tracker import ExportTracker
from handlers.slack_port import SlackGroups, SlackNotifier

PRICING_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 1})
PRICING_REGION = "us-east-1"


class Background(Protocol):
    """A job that runs beside the HTTP server (tracker, scheduler, restore runner)."""

    def start(self) -> None:
        """Start in a daemon thread."""
        ...

    def stop(self, timeout: float = 10.0) -> None:
        """Stop and wait up to `timeout` seconds."""
        ...


@dataclass
class Services:
    """Everything the bot runs with."""

    settings: Settings
    engine: Engine
    core: Core
    slack: WebClient
    authorizer: Authorizer
    tracker: ExportTracker
    extra_registrations: list[Callable[[App], Any]] = field(default_factory=list)
    background: list[Background] = field(default_factory=list)


def build_services(settings: Settings, *, boto_session: boto3.Session | None = None) -> Services:
    """Build the store, AWS accounts, prices, Slack client, authorization and tracker."""
    from bot.app import slack_client

    engine = make_engine(settings.database_url)
    create_schema(engine)
    config = load_config(settings.config_file)
    session = boto_session or boto3.Session()
    aws = AwsAccounts(session, config.accounts)
    prices = PriceBook(lambda: session.client("pricing", region_name=PRICING_REGION, config=PRICING_CONFIG))
    core = Core(
        aws=aws,
        store=Store(engine),
        prices=prices,
        config=config,
        defaults=ExportDefaults(settings.export_bucket, settings.export_prefix, settings.export_bucket_owner),
        notify_channel=settings.notify_channel,
    )
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    slack = slack_client(token, settings.slack_api_url)
    authorizer = Authorizer(settings.operators, settings.approvers, SlackGroups(slack))
    tracker = ExportTracker(core, SlackNotifier(slack), settings.poll_seconds)
    services = Services(settings, engine, core, slack, authorizer, tracker)
    services.background.append(tracker)
    wire_restores(services)
    wire_schedules(services)
    return services


__all__ = ["DEFAULT_REGION", "Services", "build_services"]
