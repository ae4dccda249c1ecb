"""The one place that builds every service from Settings."""

from __future__ import annotations

import functools
from datetime import timedelta

import boto3
from botocore.config import Config

from bot.authz import Authorizer
from bot.aws.accounts import AwsAccounts
from bot.aws.pricing import PriceBook
from bot.background.periodic import PeriodicJob
from bot.config import load_config
from bot.core import Core, ExportDefaults
from bot.coverage.survey import CoverageSurvey
from bot.db import make_engine
from bot.drills.drill_models import Drill
from bot.drills.drill_service import DrillRequest, last_drill, queue_drill
from bot.exports.reference import ReferenceStore
from bot.exports.tracker import ExportTracker
from bot.models import Requester
from bot.schedules.store import ScheduleStore
from bot.settings import Settings
from bot.store import Store
from bot.wiring.drills import build_drills
from bot.wiring.restores import build_restores
from bot.wiring.schedules import leader_gate, replica_id, schedule_channel, schedule_core
from bot.wiring.schema import create_schema
from bot.wiring.services import Services
from handlers.home.events import home_publisher
from handlers.slack_http import slack_client
from handlers.slack_port import SlackGroups, SlackNotifier

PRICING_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 1})
PRICING_REGION = "us-east-1"
HOME_REFRESH_SECONDS = 60.0  # Home tabs whose content changed are published again at most this late


def build_services(settings: Settings, *, boto_session: boto3.Session | None = None) -> Services:
    """Build the store, AWS accounts, prices, Slack client, authorization and every feature."""
    engine = make_engine(settings.database_url)
    create_schema(engine)
    config = load_config(settings.config_file)
    session = boto_session or boto3.Session()
    core = Core(
        aws=AwsAccounts(session, config.accounts),
        store=Store(engine),
        prices=PriceBook(lambda: session.client("pricing", region_name=PRICING_REGION, config=PRICING_CONFIG)),
        config=config,
        defaults=ExportDefaults(settings.export_bucket, settings.export_prefix, settings.export_bucket_owner),
        notify_channel=settings.notify_channel,
        new_table_prefix=settings.restore_table_prefix,
    )
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    slack = slack_client(token, settings.slack_api_url)
    authorizer = Authorizer(settings.operators, settings.approvers, SlackGroups(slack))
    references = ReferenceStore(engine)
    drills = build_drills(settings, engine, core, slack, references)

    def newest_drill(table_key: str) -> Drill | None:
        return last_drill(drills.drills, table_key)

    def scheduled_drill(table: str, rto_seconds: float | None, requester: Requester) -> Drill:
        return queue_drill(drills.drills, DrillRequest(table, rto_seconds=rto_seconds), requester).drill

    coverage = CoverageSurvey(
        core,
        lambda: {schedule.table_key for schedule in ScheduleStore(engine).all()},
        cache_seconds=settings.coverage_cache_seconds,
        last_drill=newest_drill,
        drill_max_age=timedelta(days=settings.drill_max_age_days),
    )
    schedules = schedule_core(
        settings,
        engine,
        core,
        slack,
        replica_id(),
        unprotected=coverage.unprotected,
        last_drill=newest_drill,
        queue_drill=scheduled_drill,
    )
    tracker = ExportTracker(
        core,
        SlackNotifier(slack),
        settings.poll_seconds,
        schedule_channel=functools.partial(schedule_channel, schedules),
        oncall=settings.oncall,
        references=references,
    )
    restores = build_restores(settings, engine, core, slack, authorizer, references)
    home = home_publisher(slack, authorizer, schedules, restores.workflow, coverage)
    return Services(
        settings=settings,
        engine=engine,
        core=core,
        slack=slack,
        authorizer=authorizer,
        tracker=tracker,
        restores=restores.workflow,
        schedules=schedules,
        verifications=drills.verifications,
        drills=drills.drills,
        coverage=coverage,
        home=home,
        background=(
            leader_gate(settings, engine, schedules, tracker),
            restores.runner,
            drills.runner,
            drills.drill_runner,
            PeriodicJob("home-refresh", HOME_REFRESH_SECONDS, home.refresh),
        ),
    )
