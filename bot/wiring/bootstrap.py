"""The one place that builds every service from Settings."""

from __future__ import annotations

import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import boto3
from botocore.config import Config

from bot.authz import Authorizer
from bot.aws.accounts import AwsAccounts
from bot.aws.pricing import PriceBook
from bot.background.fence import Steps, no_steps
from bot.background.notes import NOTE, UNDELIVERED, UNDELIVERED_ONCALL, NoteWork, UndeliveredReports
from bot.background.periodic import PeriodicJob
from bot.background.work import WorkKind
from bot.catalog.service import Catalogue
from bot.catalog.store import CatalogStore
from bot.config import load_config
from bot.controls.service import ControlsBoard, ControlSources
from bot.core import Core, ExportDefaults
from bot.coverage.survey import CoverageSurvey
from bot.db import DatabaseClock
from bot.drills.models import Drill
from bot.drills.service import DrillRequest, last_drill, last_drills, queue_drill
from bot.exports.reference import ReferenceStore
from bot.exports.results import TOPIC as EXPORT_RESULTS
from bot.exports.results import ExportResults
from bot.exports.tracker import ExportTracker
from bot.models import Requester
from bot.recovery.store import PREPARATION as RECOVERY_NOTES
from bot.recovery.store import RecoveryStore
from bot.restores.models import REPAIR_MODES
from bot.restores.runner import TOPIC as RESTORE_RESULTS
from bot.retention.buckets import read_bucket_keeping
from bot.retention.deletions import Deletions
from bot.retention.service import Retention
from bot.retention.store import DELETION, DeletionStore
from bot.retention.work import DeletionResults, DeletionWork
from bot.schedules.fanout import FANOUT
from bot.schedules.fires import FIRE, FanoutWork, FireWork
from bot.schedules.runs import TOPIC as RUN_REPORTS
from bot.schedules.runs import RunReports
from bot.schedules.service import DrillOptions
from bot.schedules.store import ScheduleStore
from bot.settings import Settings
from bot.store import Store
from bot.wiring.drills import build_drills
from bot.wiring.health import build_health
from bot.wiring.recovery import build_recovery, preparation_kind, recovery_notes, repair_planner
from bot.wiring.restores import build_restores
from bot.wiring.schedules import leader_gate, replica_id, schedule_channel, schedule_core, scheduled_places
from bot.wiring.services import Services
from bot.wiring.startup import aws_session, check_aws, check_slack, open_database, slack_probe_client
from bot.wiring.work import work_engine
from handlers.exports.notifier import SlackNotifier
from handlers.home.events import home_publisher
from handlers.kit.delivery import SlackUndelivered
from handlers.kit.http import slack_client
from handlers.kit.slack_port import SlackGroups
from handlers.retention.notifier import SlackDeletionNotifier

PRICING_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 1})
PRICING_REGION = "us-east-1"
# The few threads that do a slash command's AWS work after its ack. Few on purpose: under load, dozens of busy threads
# would fight for the GIL with the threads that must acknowledge Slack within 3 seconds.
WORK_THREADS = 8
HOME_REFRESH_SECONDS = 60.0  # Home tabs whose content changed are published again at most this late
FIRES_AT_ONCE = 10  # schedule fires (and many-table continuations) a replica's work runner takes over at once
NOTES_AT_ONCE = 8
logger = logging.getLogger(__name__)


def build_services(
    settings: Settings,
    *,
    boto_session: boto3.Session | None = None,
    database_clock: DatabaseClock | None = None,
    work_steps: Steps = no_steps,
) -> Services:
    """Check the config file, Slack, AWS and the database (StartupError, ConfigError: one sentence naming the
    setting), then build the store, AWS accounts, prices, Slack client, authorization and every feature.
    `database_clock` and `work_steps` are the claimed work's clock and crash points (the tests' own; the database's
    and none otherwise)."""
    config = load_config(settings.config_file)
    slack_probe = slack_probe_client(settings)
    slack_identity = check_slack(slack_probe)
    session = boto_session or aws_session(settings)
    aws_identity = check_aws(session, settings)
    engine = open_database(settings)
    logger.info(
        "bot.start_checks_passed",
        extra={
            "slack_team": slack_identity.team_id,
            "aws_account": aws_identity.account,
            "region": aws_identity.region,
        },
    )
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
    holder = replica_id()
    work = work_engine(settings, engine, holder, clock=database_clock, steps=work_steps)
    drills = build_drills(settings, engine, core, slack, references, work.wake.set)

    def newest_drill(table_key: str) -> Drill | None:
        return last_drill(drills.drills, table_key)

    def scheduled_drill(table: str, options: DrillOptions, requester: Requester, drill_id: str) -> Drill:
        request = DrillRequest(
            table,
            rto_seconds=options.rto_seconds,
            drill_id=drill_id,
            from_pitr=options.from_pitr,
            random_seconds=options.random_seconds,
        )
        return queue_drill(drills.drills, request, requester).drill

    coverage = CoverageSurvey(
        core,
        functools.partial(scheduled_places, core, ScheduleStore(engine)),
        cache_seconds=settings.coverage_cache_seconds,
        last_drills=functools.partial(last_drills, drills.drills),
        drill_max_age=timedelta(days=settings.drill_max_age_days),
        not_backups=RecoveryStore(engine).export_arns,
    )
    schedules = schedule_core(
        settings,
        engine,
        core,
        slack,
        holder,
        work.desk,
        work.targets,
        unprotected=coverage.unprotected,
        last_drill=newest_drill,
        queue_drill=scheduled_drill,
    )
    tracker = ExportTracker(core, settings.poll_seconds, on_finished=work.wake.set)
    results = ExportResults(
        core,
        SlackNotifier(slack),
        schedule_channel=functools.partial(schedule_channel, schedules),
        oncall=settings.oncall,
        references=references,
    )
    recovery = build_recovery(settings, engine, core, slack, authorizer, work.wake.set)
    restores = build_restores(
        settings,
        engine,
        core,
        slack,
        authorizer,
        references,
        work.wake.set,
        more_executors=dict.fromkeys(REPAIR_MODES, recovery.executor),
        planner_for=functools.partial(repair_planner, recovery.store),
    )
    health = build_health(settings, session, slack_probe, core.aws, authorizer)
    for warning in health.warnings():
        logger.warning("bot.start_warning", extra={"warning": warning.operator})
    deletion_store, deletion_notifier = DeletionStore(engine), SlackDeletionNotifier(slack)
    notes = NoteWork(
        {
            EXPORT_RESULTS: results,
            RUN_REPORTS: RunReports(schedules),
            RESTORE_RESULTS: restores.results,
            RECOVERY_NOTES: recovery_notes(recovery, restores.workflow, slack),
            **drills.results,
            DELETION: DeletionResults(deletion_store, deletion_notifier),
            UNDELIVERED: UndeliveredReports(work.targets, SlackUndelivered(slack), settings.notify_channel),
            UNDELIVERED_ONCALL: UndeliveredReports(
                work.targets, SlackUndelivered(slack), settings.notify_channel, oncall=settings.oncall
            ),
        },
        work.targets,
        retry_after=timedelta(seconds=settings.poll_seconds),
    )
    catalogue = Catalogue(
        core,
        CatalogStore(engine),
        drills.verifications.store,
        drills.drills.store,
        not_backups=RecoveryStore(engine).export_arns,
        gone=deletion_store.gone_export_ids,
    )
    deletions = Deletions(
        Retention(catalogue),
        deletion_store,
        authorizer,
        deletion_notifier,
        restores.workflow.policy,
        wake=work.wake.set,
    )
    deletion_work = DeletionWork(deletion_store, lambda request: core.aws.s3(core.table(request.table_key)[1]))
    runner = work.runner(
        [
            restores.work.kind(),
            WorkKind(FIRE, FireWork(schedules), parallel=FIRES_AT_ONCE),
            WorkKind(FANOUT, FanoutWork(schedules), parallel=FIRES_AT_ONCE),
            WorkKind(NOTE, notes, parallel=NOTES_AT_ONCE),
            preparation_kind(recovery, restores.workflow, settings.poll_seconds),
            *drills.kinds,
            WorkKind(DELETION, deletion_work),
        ],
        on_cycle=(restores.workflow.expire_due, restores.work.overdue, deletions.expire_due),
    )
    controls = ControlsBoard(
        ControlSources(
            core,
            catalogue.store,
            drills.drills.store,
            read_bucket_keeping,
            not_backups=catalogue.not_backups,
            gone=catalogue.gone,
        )
    )
    home = home_publisher(
        slack, authorizer, schedules, restores.workflow, coverage, health.warnings_for_people, controls.of
    )
    return Services(
        settings=settings,
        engine=engine,
        core=core,
        slack=slack,
        authorizer=authorizer,
        tracker=tracker,
        restores=restores.workflow,
        restore_control=restores.control,
        recoveries=recovery.recoveries,
        work_runner=runner,
        schedules=schedules,
        verifications=drills.verifications,
        drills=drills.drills,
        coverage=coverage,
        controls=controls,
        catalogue=catalogue,
        deletions=deletions,
        home=home,
        work=ThreadPoolExecutor(max_workers=WORK_THREADS, thread_name_prefix="work"),
        background=(
            leader_gate(settings, engine, schedules, tracker),
            runner,
            PeriodicJob("home-refresh", HOME_REFRESH_SECONDS, home.refresh),
        ),
        health=health,
    )
