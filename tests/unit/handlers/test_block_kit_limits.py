"""Every Block Kit builder in handlers/ stays within Slack's limits whatever it is given, and never lets user or
AWS text notify anyone: checked with the Slack stand-in's own validator (bot/demo/block_kit_rules.py), so the limits
have one implementation, and with Slack's own models (slack_sdk.models, tests/support/slack_models.py) beside it.

Each builder is rendered with maximal inputs (255-character names, 5,000-character AWS errors, 1,000-row lists)
and, through Hypothesis, with arbitrary text; the lines a person must see are checked to survive.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk import WebClient

from bot.aws.accounts import Place
from bot.aws.pricing import embedded_rates
from bot.aws.table_info import PitrWindow, TableInfo
from bot.aws.tables import TableRef
from bot.catalog.models import (
    CatalogEntry,
    Chain,
    Discovery,
    EntrySource,
    Listing,
    Proof,
    RestoreChain,
    UnreadableSummary,
)
from bot.controls.models import Control, ControlResult, ControlsReport, Outcome, TableControls
from bot.controls.models import Proof as ControlProof
from bot.coverage.models import CoverageReport, TableCoverage, Unreadable
from bot.demo.block_kit_rules import HOME, MESSAGE, MODAL, message_errors, view_errors
from bot.demo.slack_standin import SlackStandIn
from bot.drills.models import Drill, DrillResult, DrillSpec, DrillStatus
from bot.drills.service import QueuedDrill
from bot.errors import AwsError, PreconditionFailed, UsageError
from bot.exports.start import StartedExport
from bot.home.dashboard import Dashboard
from bot.models import ExportFormat, ExportJob, ExportStatus, ExportType
from bot.money import CostReport, ExportCost, TableSize
from bot.pitr import PitrChange, PitrReport
from bot.restores.bulk_options import BulkPut, Engine, Tier
from bot.restores.executors import CREATED_TABLE
from bot.restores.models import (
    Approval,
    Estimate,
    ImportOptions,
    LoadOptions,
    LoadSource,
    PitrOptions,
    RestoreMode,
    RestorePlan,
    RestoreRequest,
    RestoreStatus,
    SourceSummary,
    TableOrigin,
    TierEstimate,
)
from bot.restores.notify import CarryOver, RestoreOutcome, RestoreProgress
from bot.restores.outcome import OutcomeCheck, Verdict
from bot.restores.plans import PlannedRestore
from bot.restores.summary import plan_summary
from bot.restores.workflow import Requested
from bot.retention.buckets import BucketKeeping
from bot.retention.models import DeletionRequest, DeletionState, Fate, RetentionAsk, RetentionReport
from bot.retention.proposal import propose
from bot.schedules.costly import CostlySchedule
from bot.schedules.models import (
    Digest,
    DigestTable,
    ExportPlan,
    RunKind,
    RunReport,
    RunState,
    Schedule,
    ScheduleRun,
    ScheduleSource,
    ScheduleType,
    ScheduleView,
)
from bot.schedules.runs import RunOutcome
from bot.schedules.service import AddedSchedule
from bot.verification.models import ExportTarget, Verification, VerificationStatus
from bot.verification.verify import Failure, VerifyProgress
from handlers.catalog import blocks as catalog_blocks
from handlers.controls import blocks as controls_blocks
from handlers.controls.parsing import REPORT_HELP
from handlers.costs import blocks as cost_blocks
from handlers.costs.parsing import COST_HELP
from handlers.coverage import blocks as coverage_blocks
from handlers.coverage import schedule_form
from handlers.drills import blocks as drill_blocks
from handlers.drills.parsing import DRILL_HELP
from handlers.exports import blocks as export_blocks
from handlers.exports.parsing import EXPORT_HELP, STATUS_HELP
from handlers.help import blocks as help_blocks
from handlers.help.parsing import HELP_HELP
from handlers.home import blocks as home_blocks
from handlers.kit import blocks, delivery
from handlers.pitr import blocks as pitr_blocks
from handlers.pitr.parsing import PITR_HELP
from handlers.recovery import blocks as recovery_blocks
from handlers.restores import blocks as restore_blocks
from handlers.restores import bulk_blocks, form_blocks
from handlers.restores.parsing import RESTORE_HELP
from handlers.retention import blocks as retention_blocks
from handlers.retention import deletion_blocks
from handlers.schedules import blocks as schedule_blocks
from handlers.schedules.parsing import HELP as SCHEDULE_HELP
from handlers.verification import blocks as verification_blocks
from handlers.verification.parsing import VERIFY_HELP
from tests.support.recovery_cases import CASES as RECOVERY_CASES
from tests.support.slack_models import slack_sdk_refusals

BUILDER_MODULES: tuple[ModuleType, ...] = (
    blocks,
    delivery,
    export_blocks,
    pitr_blocks,
    cost_blocks,
    restore_blocks,
    bulk_blocks,
    form_blocks,
    schedule_blocks,
    coverage_blocks,
    schedule_form,
    home_blocks,
    drill_blocks,
    verification_blocks,
    help_blocks,
    recovery_blocks,
    catalog_blocks,
    retention_blocks,
    deletion_blocks,
    controls_blocks,
)
T0 = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
TABLE_255 = "orders-" + "x" * 248  # the longest table name DynamoDB accepts
AWS_ERROR_5000 = ("S3 said <!channel> & <@U0EVIL> `denied` *now* <#C0EVIL|ops> <!here> > " * 80)[:5000]
# The bot's own, deliberate mentions: the ids the builders are given in id fields and in settings.
APPROVERS = ("U0BOB", "U0CAROL")
CHANNELS = ("C0APPROVALS", "C0BACKUPS", "C0OPS")
ONCALL = "S0ONCALL"
WELL_FORMED_USER = re.compile(r"[UW][A-Z0-9]{2,30}")
# the bot's own dates (handlers/kit/text.py `when`): a reader's local time, with the ISO-8601 text as fallback
SLACK_DATE = re.compile(r"<!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ>")


@dataclass(frozen=True)
class Given:
    """What a builder is given from outside: identifiers, free text (AWS errors, notes, options), a user id field,
    and how long every list is."""

    name: str
    text: str
    user: str
    rows: int


MAXIMAL = Given(name=TABLE_255, text=AWS_ERROR_5000, user="U0ALICE", rows=1000)


# ------------------------------------------------------------------------------------------- domain records


def export_job(g: Given, index: int = 0, **changes: Any) -> ExportJob:
    export_id = f"{1768385930622 + index:014d}-efd1a093"
    values: dict[str, Any] = {
        "export_arn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{g.name}/export/{export_id}",
        "export_id": export_id,
        "table_key": g.name,
        "table_name": g.name,
        "table_arn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{g.name}",
        "region": "us-east-1",
        "status": ExportStatus.COMPLETED,
        "export_type": ExportType.FULL,
        "export_format": ExportFormat.DYNAMODB_JSON,
        "bucket": "acme-ddb-backups",
        "s3_prefix": g.text[:512],
        "requested_by": g.user,
        "bucket_owner": "222222222222",
        "started_at": T0,
        "ended_at": T0 + timedelta(minutes=6),
        "item_count": 1234,
        "billed_size_bytes": 3 * 2**30,
        "failure_code": "S3AccessDenied",
        "failure_message": g.text,
        "export_time": T0,
        "export_from": T0,
        "export_to": T0 + timedelta(hours=1),
    }
    values.update(changes)
    return ExportJob(**values)


def aws_named(g: Given) -> Given:
    """`g` with a name DynamoDB accepts (3 to 255 of a-z, A-Z, 0-9, `_`, `-`, `.`), for inputs that come from AWS."""
    return replace(g, name=(re.sub(r"[^A-Za-z0-9_.-]", "", g.name) + "abc")[:255])


def table_info(g: Given) -> TableInfo:
    return TableInfo(
        TableRef(g.name), Place(None, "us-east-1"), g.name, f"arn:aws:dynamodb:::table/{g.name}", 10**9, 10, "ACTIVE"
    )


def restore_request(
    g: Given,
    *,
    mode: RestoreMode = RestoreMode.IMPORT,
    status: RestoreStatus = RestoreStatus.PENDING,
    sources: int | None = None,
) -> RestoreRequest:
    count = g.rows if sources is None else sources
    arns = tuple(export_job(g, i).export_arn for i in range(count))
    origin = TableOrigin(g.name, None, "us-east-1", arn=f"arn:aws:dynamodb:us-east-1:123456789012:table/{g.name}")
    options: ImportOptions | PitrOptions | LoadOptions
    if mode == RestoreMode.IMPORT:
        table = {
            "KeySchema": [{"AttributeName": g.text[:255], "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "GlobalSecondaryIndexes": [{}] * 3,
        }
        options = ImportOptions(g.name, None, g.text, "DYNAMODB_JSON", "GZIP", table, g.text, origin)
    elif mode == RestoreMode.PITR:
        options = PitrOptions(origin, datetime(2026, 1, 14, 10, tzinfo=UTC), None)
    else:
        source = LoadSource(g.text, g.name, "FULL_EXPORT", "DYNAMODB_JSON", g.name, g.text, None, None, "us-east-1")
        options = LoadOptions((g.text[:255],), (source,) * count)
    plan = RestorePlan(mode, arns, g.name, None, "us-east-1", options)
    summaries = tuple(
        SourceSummary(
            label=arn,
            table=g.name,
            export_id=export_job(g, i).export_id,
            export_type=ExportType.INCREMENTAL if i else ExportType.FULL,
            export_time=T0 + timedelta(minutes=15 * i),
            item_count=1234,
            size_bytes=2**30,
            bucket=g.name[:63],
            owner="222222222222",
            unverified=(g.text,) * min(g.rows, 3),
            window_start=T0 if i else None,
            window_end=T0 + timedelta(minutes=15 * i) if i else None,
        )
        for i, arn in enumerate(arns)
    )
    return RestoreRequest(
        id="r-0123456789",
        status=status,
        plan=plan,
        plan_hash=plan.digest(),
        requested_by=g.user,
        required_approvals=2,
        created_at=T0,
        expires_at=T0 + timedelta(hours=1),
        sources=summaries,
        estimate=Estimate("$0.15", 720.0, g.text),
        approval_channel="C0APPROVALS",
        approval_ts="1.000100",
        decided_at=T0 + timedelta(minutes=5),
        decided_by=",".join(APPROVERS),
        notes=(g.text,) * min(g.rows, 20),
        result={"check": partial_check(g).as_dict()} if status == RestoreStatus.PARTIAL else {},
    )


def bulk_request(g: Given) -> RestoreRequest:
    """An `into=` request whose full export goes through bulk put, with both tiers' estimates and a long reason."""
    request = restore_request(g, mode=RestoreMode.LOAD)
    options = request.plan.options_as(LoadOptions)
    bulk = BulkPut(
        g.name, g.name, None, g.text, "ION", "GZIP", 10**7, Tier.ACCELERATED, g.name, g.text, g.text, 50_000, 2**50
    )
    plan = replace(request.plan, options=replace(options, engine=Engine.BULK, engine_reason=g.text, bulk=bulk))
    tiers = tuple(TierEstimate(t.value, g.text, 10.0**7, g.text, t == Tier.ACCELERATED, g.text) for t in Tier)
    estimate = Estimate(None, 10.0**7, g.text, tiers)
    return replace(request, plan=plan, plan_hash=plan.digest(), estimate=estimate)


def partial_check(g: Given) -> OutcomeCheck:
    return OutcomeCheck(Verdict.PARTIAL, 10**12, 10**12 - 3, 3, g.text, (g.text,) * g.rows)


def approvals(g: Given) -> list[Approval]:
    return [Approval("r-0123456789", approver, T0) for approver in APPROVERS]


def outcome(g: Given) -> RestoreOutcome:
    rows = tuple(
        CarryOver(f"{g.name[:40]}-{i}", g.text, f"aws dynamodb update-time-to-live --table-name {g.name}", i % 2 == 0)
        for i in range(g.rows)
    )
    return RestoreOutcome(
        item_count=3,
        items_written=10**9,
        deletes_applied=10**6,
        files=g.rows,
        files_skipped=1,
        retries=7,
        duration_seconds=7200.0,
        not_carried_over=rows,
        source_unreachable=g.text,
        check=partial_check(g),
    )


def bulk_outcome(g: Given) -> RestoreOutcome:
    """A bulk put's outcome at its largest: every figure, AWS's failure text, a report with many failed items, and the
    table a cancelled ImportTable left."""
    first = [{"keys": f"pk={g.text} (S)", "reason": g.text, "kind": "ERROR"} for _ in range(g.rows)]
    report = {"location": f"s3://{g.name}/{g.text}", "errors": 10**9, "conditions": 10**6, "first": first, "files": 3}
    bulk = {
        "status": g.text,
        "processed": 10**9,
        "failed": 10**6,
        "conditions": 10**6,
        "written": 10**9,
        "failure": g.text,
    }
    details = {"bulk": {**bulk, "report": report}, CREATED_TABLE: {"arn": g.text, "id": g.name}}
    return replace(outcome(g), details=details)


def schedule(g: Given, **changes: Any) -> Schedule:
    values: dict[str, Any] = {
        "id": g.name,
        "table": g.name,
        "table_key": g.name,
        "cron": g.text[:100],
        "timezone": "Europe/Paris",
        "export_type": ScheduleType.INCREMENTAL,
        "options": {"prefix": g.text, "bucket": g.name, "format": g.text},
        "channel": "C0BACKUPS",
        "source": ScheduleSource.CONFIG,
        "paused": True,
        "created_by": g.user,
        "created_at": T0,
        "active_since": T0,
        "expected_hours": 2.0,
    }
    values.update(changes)
    return Schedule(**values)


def schedule_run(g: Given, **changes: Any) -> ScheduleRun:
    values: dict[str, Any] = {
        "id": 1,
        "schedule_id": g.name,
        "fire_time": T0,
        "kind": RunKind.SCHEDULED,
        "state": RunState.STARTED,
        "holder": "a",
        "claimed_at": T0,
        "plan": ExportPlan(ExportType.INCREMENTAL, note=g.text),
        "error": g.text,
        "fix": g.text,
    }
    values.update(changes)
    return ScheduleRun(**values)


def schedule_view(g: Given) -> ScheduleView:
    last = export_job(g, status=ExportStatus.FAILED)
    return ScheduleView(schedule(g), (T0, T0, T0), schedule_run(g), last, 30.0, Decimal("1.5"), g.text, "us-east-1")


def coverage_report(g: Given) -> CoverageReport:
    """5 x `rows` tables (5,000 at the maximum), every kind of issue, and unreadable places with long errors."""
    tables = [
        TableCoverage(
            key=f"{g.name}-{index}",
            alias=g.name if index % 2 else None,
            region="ap-southeast-2",
            pitr_enabled=index % 3 != 0,
            recovery_days=35,
            deletion_protection=index % 5 == 0,
            last_export=None if index % 4 == 0 else T0 - timedelta(days=index % 30),
            scheduled=index % 7 == 0,
            problem=g.text if index % 11 == 0 else None,
            schedule_note=("paused", "drills only", None)[index % 3] if index % 7 else None,
        )
        for index in range(5 * g.rows)
    ]
    unreadable = [Unreadable(g.name, "eu-central-2", g.text, g.text) for _ in range(min(g.rows, 50))]
    return CoverageReport(T0, tuple(tables), tuple(unreadable), timedelta(days=7), places=g.rows)


def controls_report(g: Given) -> ControlsReport:
    """Every control of 5 x `rows` tables, every outcome, reasons and proofs as long as AWS errors."""
    outcomes = list(Outcome)
    tables = tuple(
        TableControls(
            f"{g.name}-{index}",
            g.name if index % 2 else None,
            "ap-southeast-2",
            "123456789012",
            tuple(
                ControlResult(
                    control, g.text, outcomes[(index + n) % 4], g.text, ControlProof(g.name, g.text, g.name, T0)
                )
                for n, control in enumerate(Control)
            ),
        )
        for index in range(5 * g.rows)
    )
    return ControlsReport(T0, tables)


def dashboard(g: Given, *, approver: bool) -> Dashboard:
    """Ten of everything the Home tab lists, with maximal names and errors."""
    jobs = tuple(export_job(g, i, status=ExportStatus.FAILED, failure_code=g.text) for i in range(10))
    requests = tuple(replace(restore_request(g, sources=3), id=f"r-{i:010d}") for i in range(10))  # ids are unique
    fires = tuple((schedule(g), T0) for _ in range(10))
    ended = tuple(restore_request(g, sources=3, status=RestoreStatus.PARTIAL) for _ in range(10))
    pending = tuple(plan_summary(r) for r in requests)
    warnings = (g.text,) * 5
    return Dashboard(
        T0,
        coverage_report(g),
        None,
        jobs,
        requests,
        pending,
        approver,
        fires,
        jobs,
        ended,
        warnings,
        controls_report(g),
    )


def digest(g: Given) -> Digest:
    tables = tuple(
        DigestTable(f"{g.name}-{i}", export_job(g, i), T0, None, Decimal("0.42"), flags=(g.text,) * 12, error=g.text)
        for i in range(g.rows)
    )
    return Digest(at=T0, tables=tables, region_note=g.text)


# ------------------------------------------------------------------------------ every builder, and its cases


def verification(g: Given, **changes: Any) -> Verification:
    target = ExportTarget(
        export_id=g.name,
        export_arn=None,
        bucket="acme-ddb-backups",
        prefix=g.text[:1024],
        bucket_owner=None,
        export_type=ExportType.FULL,
        read_alias=None,
        read_region="us-east-1",
        label=g.text[:200],
    )
    values: dict[str, Any] = {
        "id": "v-3fa2c1d8",
        "target": target,
        "requested_by": g.user,
        "channel_id": "C0OPS",
        "status": VerificationStatus.FAILED,
        "attempts": 3,
        "finished_at": T0,
        "files": 10**6,
        "items": 10**12,
        "bytes": 10**15,
        "seconds": 86400.0 * 3,
        "failures": tuple(Failure(g.text[:1024], g.text) for _ in range(min(g.rows, 10))),
        "failure_count": g.rows,
        "reference_at": T0,
        "notes": (g.text,) * min(g.rows, 5),
    }
    values.update(changes)
    return Verification(**values)


def drill(g: Given, **changes: Any) -> Drill:
    spec = DrillSpec(
        table_key=g.name,
        account_alias=None,
        region="us-east-1",
        export=verification(g).target,
        drill_table=f"{g.name[:236]}-drill-202612021530",
        table_snapshot={},
        expected_items=10**12,
        rto_seconds=86400.0,
        keep=True,
        sample_size=100_000,
    )
    result = DrillResult(
        failure=g.text,
        items_expected=10**12,
        items_imported=10**12 - 1,
        sample_compared=100_000,
        differences=(g.text,) * min(g.rows, 5),
        difference_count=g.rows,
        recovery_seconds=90000.0,
        deleted=False,
        kept=False,
        left_behind=True,
        notes=(g.text,) * min(g.rows, 3),
    )
    values: dict[str, Any] = {
        "id": "d-3fa2c1d8",
        "spec": spec,
        "requested_by": g.user,
        "channel_id": "C0OPS",
        "status": DrillStatus.FAILED,
        "result": result,
    }
    values.update(changes)
    return Drill(**values)


def catalog_entry(g: Given, index: int = 0, **changes: Any) -> CatalogEntry:
    values: dict[str, Any] = {
        "export_id": f"{1768385930622 + index:014d}-efd1a093",
        "table_arn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{g.name}",
        "table_name": g.name,
        "region": "us-east-1",
        "export_type": ExportType.INCREMENTAL if index % 2 else ExportType.FULL,
        "export_format": ExportFormat.DYNAMODB_JSON,
        "bucket": "acme-ddb-backups",
        "prefix": g.text[:1024],
        "source": EntrySource.BUCKET if index % 3 else EntrySource.BOT,
        "status": ExportStatus.FAILED if index % 5 == 4 else ExportStatus.COMPLETED,
        "export_time": T0 - timedelta(hours=index),
        "from_time": T0 - timedelta(hours=index + 1),
        "to_time": T0 - timedelta(hours=index),
        "item_count": 10**12,
        "billed_size_bytes": 10**15,
        "kms_key": g.text[:2048],
    }
    values.update(changes)
    return CatalogEntry(**values)


def retention_report(g: Given) -> RetentionReport:
    keeping = BucketKeeping(
        "acme-ddb-backups",
        g.text[:1024],
        7,
        1,
        "Enabled",
        "COMPLIANCE",
        3650,
        expiration_date=T0.date(),
        notes=(g.text,) * min(g.rows, 5),
    )
    refused = BucketKeeping("acme-ddb-backups", g.text[:1024], None, None, "Off", None, None, problem=g.text)
    entries = [catalog_entry(g, i) for i in range(g.rows)]
    fates = tuple(Fate(entry, T0 if i % 3 else None, deleted=i % 7 == 6) for i, entry in enumerate(entries))
    return RetentionReport(
        table=g.name,
        ask=RetentionAsk(36_500, 1_000),
        now=T0,
        keepings=(keeping, refused) * min(g.rows, 5),
        fates=fates,
        warnings=(g.text,) * g.rows,
        proposals=(propose(g.name, "acme-ddb-backups", g.text[:1024], 36_500, g.text[:300]),) * min(g.rows, 3),
    )


def deletion(g: Given, **changes: Any) -> DeletionRequest:
    values: dict[str, Any] = {
        "id": "x-3fa2c1d8e0",
        "state": DeletionState.PENDING,
        "table_key": g.name,
        "export_id": "01768385930622-efd1a093",
        "export_arn": None,
        "export_type": "FULL_EXPORT",
        "export_time": T0,
        "bucket": "acme-ddb-backups",
        "folder": g.text[:1024],
        "bucket_owner": None,
        "object_count": 10**9,
        "size_bytes": 10**15,
        "digest": "f" * 64,
        "requested_by": g.user,
        "created_at": T0,
        "expires_at": T0,
        "approval_channel": "C0APPROVALS",
        "decided_by": "U0BOB",
        "decided_at": T0,
        "outcome": g.text,
    }
    values.update(changes)
    return DeletionRequest(**values)


def discovery(g: Given) -> Discovery:
    return Discovery(
        new=g.rows,
        looked_in=tuple(f"s3://acme-ddb-backups/{g.text[:1024]}/{i}/" for i in range(min(g.rows, 20))),
        unreadable=tuple(
            UnreadableSummary(f"s3://acme-ddb-backups/{g.text[:1024]}/{i}", g.text) for i in range(g.rows)
        ),
        cut_short=(f"s3://acme-ddb-backups/{g.text[:1024]}/",),
        failures=(g.text,),
    )


def proofs(g: Given) -> dict[str, Proof]:
    proof = Proof(verified=g.text[:40], verified_at=T0, drilled="passed", drilled_at=T0)
    return {catalog_entry(g, i).export_id: proof for i in range(g.rows)}


def restore_chain(g: Given, **changes: Any) -> RestoreChain:
    values: dict[str, Any] = {
        "full": catalog_entry(g, 0),
        "incrementals": tuple(catalog_entry(g, 2 * i + 1) for i in range(g.rows)),
        "reaches": T0 - timedelta(hours=1),
        "gap": (T0 - timedelta(hours=1), T0),
    }
    values.update(changes)
    return RestoreChain(g.name, T0, Chain(**values), proofs(g), discovery(g))


Payload = dict[str, Any]
Case = Callable[[Given], Payload]
MODE_REQUESTS = (RestoreMode.IMPORT, RestoreMode.PITR, RestoreMode.LOAD)

CASES: dict[str, list[Case]] = {
    # handlers/kit/blocks.py
    # message() takes mrkdwn its caller escaped, as every builder passes it
    "message": [
        lambda g: blocks.message(
            "Note: " + blocks.escape(g.text) * 10, *[blocks.section(blocks.escape(g.text))] * g.rows
        )
    ],
    "help_message": [
        *(
            lambda g, h=h: blocks.help_message(h)
            for h in [
                PITR_HELP,
                EXPORT_HELP,
                STATUS_HELP,
                COST_HELP,
                RESTORE_HELP,
                SCHEDULE_HELP,
                VERIFY_HELP,
                DRILL_HELP,
                HELP_HELP,
                REPORT_HELP,
            ]
        ),
        lambda g: blocks.help_message(replace(COST_HELP, command=g.name, summary=g.text, usage=(g.text,))),
    ],
    "error_message": [
        lambda g: blocks.error_message(UsageError(g.text, g.text)),
        lambda g: blocks.error_message(AwsError(g.text, g.text)),
    ],
    "unexpected_error": [lambda g: blocks.unexpected_error("a1b2c3d4")],
    "working": [lambda g: blocks.working(g.text)],
    "answer_refused": [lambda g: blocks.answer_refused("a1b2c3d4")],
    "plain_fallback": [
        lambda g: blocks.plain_fallback(
            export_blocks.export_finished(export_job(g), None, embedded_rates("eu", g.text)), "a1b2c3d4"
        )
    ],
    # handlers/kit/delivery.py: where a note could not be posted (the channel as configured, Slack's answer, the note)
    "undelivered_message": [
        lambda g: delivery.undelivered_message(g.text, "C0OPS", g.text, 5),
        lambda g: delivery.undelivered_message(g.text, g.text, g.text, 1),
        lambda g: delivery.undelivered_message(g.text, "edit:C0OPS", g.text, 2),
        lambda g: delivery.undelivered_message(g.text, "U0BOB", g.text, 2),
    ],
    "pitr_message": [
        lambda g, on=on, change=change: pitr_blocks.pitr_message(
            PitrReport(
                table_info(g),
                PitrWindow(on, 35, T0, T0),
                TableSize(10**9, 10**4, g.text),
                embedded_rates("eu", g.text),
                change,
                7 if change == PitrChange.PERIOD_CHANGED else None,
            )
        )
        for on, change in (
            (True, PitrChange.NONE),
            (False, PitrChange.NONE),
            (True, PitrChange.TURNED_ON),
            (True, PitrChange.ALREADY_ON),
            (True, PitrChange.PERIOD_CHANGED),
        )
    ],
    "export_started": [
        lambda g: export_blocks.export_started(StartedExport(export_job(g), True)),
        lambda g: export_blocks.export_started(StartedExport(export_job(g), True, forced=True)),
        lambda g: export_blocks.export_started(
            StartedExport(export_job(g, export_type=ExportType.INCREMENTAL, status=ExportStatus.IN_PROGRESS), False)
        ),
        *(
            lambda g, s=s: export_blocks.export_started(StartedExport(export_job(g, status=s), False))
            for s in (ExportStatus.COMPLETED, ExportStatus.FAILED)
        ),
    ],
    "export_finished": [
        lambda g, status=status: export_blocks.export_finished(
            export_job(g, status=status), Decimal("0.30"), embedded_rates("us-east-1", g.text)
        )
        for status in (ExportStatus.COMPLETED, ExportStatus.FAILED)
    ],
    "status_list": [
        lambda g: export_blocks.status_list(g.text, [export_job(g, i) for i in range(g.rows)]),
        lambda g: export_blocks.status_list(g.text, []),
        lambda g: export_blocks.status_list(g.text, [], g.name),
    ],
    "export_detail": [
        lambda g: export_blocks.export_detail(
            export_job(g, status=ExportStatus.FAILED, export_type=ExportType.INCREMENTAL),
            None,
            embedded_rates("us-east-1", g.text),
        )
    ],
    "cost_message": [
        lambda g: cost_blocks.cost_message(
            CostReport(
                table_info(g),
                TableSize(10**12, 10**9, g.text),
                embedded_rates("us-east-1", g.text),
                False,
                Decimal("200"),
                Decimal("100"),
                Decimal("1"),
                g.text,
                10**13,
                Decimal("230"),
                g.text,
                [ExportCost(export_job(g, i), Decimal("0.1")) for i in range(g.rows)],
            )
        )
    ],
    # handlers/restores/blocks.py
    "approval_request": [
        *(lambda g, m=m: restore_blocks.approval_request(restore_request(g, mode=m)) for m in MODE_REQUESTS),
        lambda g: restore_blocks.approval_request(restore_request(g), approvals(g)),
        lambda g: restore_blocks.approval_request(bulk_request(g)),
    ],
    "approval_settled": [
        lambda g, s=s: restore_blocks.approval_settled(restore_request(g, status=s), approvals(g), note=g.text)
        for s in (
            RestoreStatus.APPROVED,
            RestoreStatus.RUNNING,
            RestoreStatus.SUCCEEDED,
            RestoreStatus.PARTIAL,
            RestoreStatus.FAILED,
            RestoreStatus.REJECTED,
            RestoreStatus.EXPIRED,
            RestoreStatus.CANCELLED,
        )
    ],
    "decided_note": [
        lambda g, s=s: restore_blocks.decided_note(restore_request(g, status=s))
        for s in (RestoreStatus.APPROVED, RestoreStatus.REJECTED, RestoreStatus.EXPIRED, RestoreStatus.CANCELLED)
    ],
    "requester_notice": [lambda g: restore_blocks.requester_notice(restore_request(g), blocks.escape(g.text))],
    "ended_notice": [lambda g: restore_blocks.ended_notice(restore_request(g), blocks.escape(g.text))],
    "started_note": [
        lambda g: restore_blocks.started_note(restore_request(g), g.text),
        lambda g: restore_blocks.started_note(restore_request(g), None),
    ],
    "progress_note": [
        lambda g: restore_blocks.progress_note(
            restore_request(g, mode=RestoreMode.LOAD),
            RestoreProgress(10**9, g.rows, g.rows, 10**6, 1e6, 7200.0, g.text),
        ),
        lambda g: restore_blocks.progress_note(
            bulk_request(g),
            RestoreProgress(
                10**9,
                eta_seconds=10.0**6,
                ceiling_units=10**7,
                bytes_done=2**50,
                bytes_total=2**51,
                failed_items=10**6,
                note=g.text,
            ),
        ),
    ],
    "finished_note": [
        *(lambda g, m=m: restore_blocks.finished_note(restore_request(g, mode=m), outcome(g)) for m in MODE_REQUESTS),
        lambda g: restore_blocks.finished_note(restore_request(g, mode=RestoreMode.LOAD), bulk_outcome(g)),
    ],
    "failed_note": [lambda g: restore_blocks.failed_note(restore_request(g), g.text)],
    # handlers/restores/bulk_blocks.py
    "cancelled_note": [
        *(
            lambda g, m=m: bulk_blocks.cancelled_note(
                replace(restore_request(g, mode=m, status=RestoreStatus.CANCELLED), cancel_requested_by=g.user),
                bulk_outcome(g),
            )
            for m in MODE_REQUESTS
        ),
        lambda g: bulk_blocks.cancelled_note(restore_request(g, status=RestoreStatus.CANCELLED), None),
    ],
    "cancel_reply": [lambda g: bulk_blocks.cancel_reply(restore_request(g), g.text)],
    "requested_reply": [
        lambda g: restore_blocks.requested_reply(
            Requested(
                restore_request(g),
                PlannedRestore(restore_request(g).plan, (), Estimate(None, None, g.text), (g.text,) * g.rows),
                "C0APPROVALS",
            )
        )
    ],
    "click_refused": [lambda g: restore_blocks.click_refused(PreconditionFailed(g.text, g.text))],
    "click_accepted": [
        lambda g: restore_blocks.click_accepted(f":white_check_mark: You approved {blocks.code(g.name)}")
    ],
    # handlers/restores/form_blocks.py
    "export_choices": [
        lambda g: form_blocks.export_choices(g.text, [export_job(g, i) for i in range(g.rows)]),
        lambda g: form_blocks.export_choices(g.text, []),
        lambda g: form_blocks.export_choices(g.text, [], g.name),
    ],
    # its input is an AWS export ARN (a Restore… button's value), so the table name is one DynamoDB accepts
    "restore_form": [
        lambda g: form_blocks.restore_form(export_job(aws_named(g)).export_arn, "C0OPS"),
        lambda g: form_blocks.restore_form(form_blocks.chain_source(aws_named(g).name, T0), "C0OPS"),
    ],
    # handlers/schedules/blocks.py
    "schedule_added": [
        lambda g: schedule_blocks.schedule_added(AddedSchedule(schedule_view(g), pitr_enabled=False), "C0BACKUPS"),
        lambda g: schedule_blocks.schedule_added(
            AddedSchedule(replace(schedule_view(g), schedule=schedule(g, channel=None)), pitr_enabled=True), None
        ),
    ],
    "schedule_confirm": [
        lambda g: schedule_blocks.schedule_confirm(CostlySchedule(schedule_view(g), (g.text,) * g.rows), "{}"),
        lambda g: schedule_blocks.schedule_confirm(
            CostlySchedule(replace(schedule_view(g), monthly_cost=None), (g.text,)), None
        ),
    ],
    "schedule_list": [
        lambda g: schedule_blocks.schedule_list([schedule_view(g)] * g.rows),
        lambda g: schedule_blocks.schedule_list([]),
    ],
    "schedule_removed": [lambda g: schedule_blocks.schedule_removed(schedule(g))],
    "schedule_paused": [
        lambda g, p=p, c=c: schedule_blocks.schedule_paused(schedule(g, paused=p), c)
        for p in (True, False)
        for c in (True, False)
    ],
    "run_started": [
        lambda g: schedule_blocks.run_started(schedule(g), RunOutcome(schedule_run(g), export_job(g)), "C0BACKUPS"),
        lambda g: schedule_blocks.run_started(schedule(g), RunOutcome(schedule_run(g), export_job(g), True), None),
        lambda g: schedule_blocks.run_started(schedule(g), RunOutcome(None, reason=g.text), "C0BACKUPS"),
    ],
    "run_report": [
        lambda g: schedule_blocks.run_report(
            RunReport(schedule(g), schedule_run(g, state=RunState.FAILED), None, ONCALL)
        ),
        lambda g: schedule_blocks.run_report(RunReport(schedule(g), schedule_run(g, late=True), export_job(g), ONCALL)),
        lambda g: schedule_blocks.run_report(RunReport(schedule(g), schedule_run(g, state=RunState.SKIPPED))),
        lambda g: schedule_blocks.run_report(
            RunReport(schedule(g), schedule_run(g, kind=RunKind.CATCH_UP), export_job(g))
        ),
    ],
    "oncall_section": [
        lambda g: blocks.oncall_section(
            drill_blocks.drill_result(drill(g, status=DrillStatus.FAILED)), ONCALL, "a scheduled restore drill"
        ),
        lambda g: blocks.oncall_section(
            export_blocks.export_finished(
                export_job(g, status=ExportStatus.FAILED), None, embedded_rates("us-east-1", g.text)
            ),
            ONCALL,
        ),
        lambda g: blocks.oncall_section(
            delivery.undelivered_message(g.text, f"thread:{g.text}", g.text, 5),
            ONCALL,
            "a message about a scheduled backup",
            " could not be posted (see above)",
        ),
    ],
    "coverage_message": [
        lambda g: coverage_blocks.coverage_message(coverage_report(g)),
        # an operator's buttons are labelled with table keys: names from ListTables and aliases the config checks
        lambda g: coverage_blocks.coverage_message(coverage_report(aws_named(g)), operator=True),
        lambda g: coverage_blocks.coverage_message(CoverageReport(T0, (), (), timedelta(days=7), places=0)),
        lambda g: coverage_blocks.coverage_message(coverage_report(g), controls=controls_report(g)),
    ],
    "report_message": [
        lambda g: controls_blocks.report_message(controls_report(g), g.name),
        lambda g: controls_blocks.report_message(ControlsReport(T0, ()), "all"),
    ],
    "catalog_listing": [
        lambda g: catalog_blocks.catalog_listing(
            Listing(g.name, tuple(catalog_entry(g, i) for i in range(g.rows)), proofs(g), discovery(g))
        ),
        lambda g: catalog_blocks.catalog_listing(Listing(g.name, ())),
    ],
    "chain_message": [
        lambda g: catalog_blocks.chain_message(restore_chain(g)),
        lambda g: catalog_blocks.chain_message(restore_chain(g, gap=None, reaches=T0)),
        lambda g: catalog_blocks.chain_message(restore_chain(g, gap=None, overshoots=catalog_entry(g, 1))),
        lambda g: catalog_blocks.chain_message(restore_chain(g, full=None, incrementals=(), earliest_full=T0)),
    ],
    "retention_message": [
        lambda g: retention_blocks.retention_message(retention_report(g)),
        lambda g: retention_blocks.retention_message(RetentionReport(g.name, RetentionAsk(), T0, (), (), (), ())),
    ],
    "deletion_request": [lambda g: deletion_blocks.deletion_request(deletion(g))],
    "deletion_settled": [
        lambda g, state=state: deletion_blocks.deletion_settled(deletion(g, state=state)) for state in DeletionState
    ],
    "deletion_asked": [
        lambda g: deletion_blocks.deletion_asked(deletion(g)),
        lambda g: deletion_blocks.deletion_asked(deletion(g, approval_channel=None)),
    ],
    "schedule_form": [
        lambda g: schedule_form.schedule_form(g.name, "C0OPS", g.name[:63]),
        lambda g: schedule_form.schedule_form(g.name, None, None),
    ],
    "home_view": [
        lambda g: home_blocks.home_view(dashboard(g, approver=True), blocks.escape(g.text)),
        lambda g: home_blocks.home_view(dashboard(g, approver=False)),
        lambda g: home_blocks.home_view(Dashboard(T0, None, g.text, (), (), (), True, (), (), ())),
    ],
    "digest_message": [
        lambda g: schedule_blocks.digest_message(digest(g)),
        lambda g: schedule_blocks.digest_message(Digest(T0, (), g.text)),
        lambda g: schedule_blocks.digest_message(Digest(T0, (), g.text, (g.text,) * g.rows)),
        lambda g: schedule_blocks.digest_message(replace(digest(g), coverage_changes=(g.text,) * g.rows)),
    ],
    # handlers/verification/blocks.py
    "verification_queued": [lambda g: verification_blocks.verification_queued(verification(g))],
    "verification_started": [
        lambda g, resumed=resumed: verification_blocks.verification_started(verification(g), resumed)
        for resumed in (True, False)
    ],
    "verification_progress": [
        lambda g: verification_blocks.verification_progress(
            verification(g), VerifyProgress(10**6, 10**6, 10**12, 10**15)
        )
    ],
    "verification_result": [
        *(
            lambda g, s=s: verification_blocks.verification_result(verification(g, status=s))
            for s in (VerificationStatus.PASSED, VerificationStatus.FAILED)
        ),
        lambda g: verification_blocks.verification_result(
            verification(g, status=VerificationStatus.PASSED, notes=(), failures=(), failure_count=0)
        ),
    ],
    # handlers/drills/blocks.py
    "drill_queued": [lambda g: drill_blocks.drill_queued(QueuedDrill(drill(g), Estimate("$1.23", 600.0, g.text)))],
    # handlers/help/blocks.py
    "command_index": [
        lambda g: help_blocks.command_index([PITR_HELP, EXPORT_HELP, HELP_HELP]),
        lambda g: help_blocks.command_index([replace(COST_HELP, command=g.name, summary=g.text)] * g.rows),
    ],
    "drill_result": [
        lambda g, s=s: drill_blocks.drill_result(drill(g, status=s)) for s in (DrillStatus.PASSED, DrillStatus.FAILED)
    ],
    # handlers/recovery/blocks.py (its cases live with its records, in tests/support/recovery_cases.py)
    **RECOVERY_CASES,
}
VIEWS = {"restore_form": MODAL, "schedule_form": MODAL, "home_view": HOME}
ALL_CASES = [(name, index, case) for name, cases in CASES.items() for index, case in enumerate(cases)]
CASE_IDS = [f"{name}-{index}" for name, index, _ in ALL_CASES]


def builders_of(module: ModuleType) -> Iterator[str]:
    """Every public function of `module` that returns a message or a view, by the annotation as written (read
    from the source: `Message`, `View` and `Block` are all the same dict type once evaluated)."""
    for node in ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            returns = ast.unparse(node.returns) if node.returns else ""
            if returns.strip("'\"") in {"Message", "View"}:
                yield node.name


def builders() -> Iterator[str]:
    """Every builder of the builder modules."""
    for module in BUILDER_MODULES:
        yield from builders_of(module)


def modules_with_builders() -> set[str]:
    """Every module under handlers/ that has a builder, found by walking the package (not by a list kept here)."""
    handlers = importlib.import_module("handlers")
    found = set()
    for info in pkgutil.walk_packages(handlers.__path__, "handlers."):
        module = importlib.import_module(info.name)
        if any(builders_of(module)):
            found.add(info.name)
    return found


def limit_errors(name: str, payload: Payload) -> list[str]:
    """What the stand-in's rules and slack_sdk's models both find wrong in a builder's output."""
    surface = VIEWS.get(name, MESSAGE)
    errors = message_errors(payload) if surface == MESSAGE else view_errors(payload, surface=surface)
    return errors + slack_sdk_refusals(payload, surface)


def rendered_texts(payload: Any) -> Iterator[str]:
    """Every text Slack renders (message text and text objects); ids, values and metadata are not shown."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "text" and isinstance(value, str):
                yield value
            elif key not in {"value", "private_metadata", "action_id", "block_id", "callback_id"}:
                yield from rendered_texts(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from rendered_texts(item)


def stray_control_sequences(payload: Payload, g: Given) -> list[str]:
    """Angle brackets left once the bot's deliberate mentions are taken out: each one came from foreign text."""
    deliberate = {f"<@{u}>" for u in APPROVERS} | {f"<#{c}>" for c in CHANNELS} | {f"<!subteam^{ONCALL}>"}
    if WELL_FORMED_USER.fullmatch(g.user):
        deliberate.add(f"<@{g.user}>")
    found = []
    for text in rendered_texts(payload):
        text = SLACK_DATE.sub("", text)
        for token in deliberate:
            text = text.replace(token, "")
        found += re.findall(r".{0,20}[<>].{0,20}", text)
    return found


# ------------------------------------------------------------------------------------------------- the tests


def test_every_builder_in_handlers_has_cases_here() -> None:
    assert modules_with_builders() == {module.__name__ for module in BUILDER_MODULES}
    assert set(builders()) == set(CASES)


def test_every_option_of_every_builder_is_used_by_a_case(monkeypatch: pytest.MonkeyPatch) -> None:
    """A parameter with a default (`operator=True` adds the buttons) changes what is rendered: some case must pass
    it with another value, or its blocks are never checked."""
    passed: dict[str, set[str]] = defaultdict(set)
    for module in BUILDER_MODULES:
        for name in builders_of(module):
            monkeypatch.setattr(module, name, recording(getattr(module, name), passed[name]))
    for _name, _index, case in ALL_CASES:
        case(MAXIMAL)

    unused = {
        f"{name}({parameter})"
        for module in BUILDER_MODULES
        for name in builders_of(module)
        for parameter in optional_parameters(getattr(module, name))
        if parameter not in passed[name]
    }
    assert unused == set()


def optional_parameters(function: Callable[..., Any]) -> list[str]:
    signature = inspect.signature(inspect.unwrap(function))
    return [p.name for p in signature.parameters.values() if p.default is not inspect.Parameter.empty]


def recording(function: Callable[..., Payload], passed: set[str]) -> Callable[..., Payload]:
    """`function`, noting each optional parameter a call gives a value other than its default."""
    signature = inspect.signature(function)

    def recorded(*args: Any, **kwargs: Any) -> Payload:
        for name, value in signature.bind(*args, **kwargs).arguments.items():
            if value != signature.parameters[name].default:
                passed.add(name)
        return function(*args, **kwargs)

    recorded.__wrapped__ = function  # type: ignore[attr-defined]
    return recorded


@pytest.mark.parametrize(("name", "index", "case"), ALL_CASES, ids=CASE_IDS)
def test_with_maximal_inputs_every_builder_stays_within_slacks_limits(name: str, index: int, case: Case) -> None:
    payload = case(MAXIMAL)

    assert limit_errors(name, payload) == []
    assert stray_control_sequences(payload, MAXIMAL) == []


def foreign_text(max_fragments: int) -> st.SearchStrategy[str]:
    """Arbitrary text, with the fragments that break naive rendering mixed in; sometimes very long."""
    fragments = st.one_of(
        st.text(max_size=12),
        st.sampled_from(["<!channel>", "<!here>", "<!everyone>", "<@U0EVIL>", "<#C0EVIL>", "<", ">", "&", "&amp;"]),
        st.sampled_from(["`", "```", "*", "_", "~", "\n", "<!subteam^S0EVIL>", "<https://evil.example|x>"]),
    )
    short = st.lists(fragments, max_size=max_fragments).map("".join)
    return st.one_of(short, st.tuples(short, st.integers(1, 400)).map(lambda pair: pair[0] * pair[1]))


GIVEN = st.builds(
    Given,
    name=foreign_text(6),
    text=foreign_text(12),
    user=st.one_of(st.sampled_from(["U0ALICE", "W0ADMIN", "ddb-backup-bot", "schedule:nightly"]), foreign_text(4)),
    rows=st.integers(0, 60),
)


@pytest.mark.parametrize(("name", "index", "case"), ALL_CASES, ids=CASE_IDS)
@given(g=GIVEN)
def test_for_any_text_every_builder_stays_within_limits_and_lets_no_foreign_text_notify(
    name: str, index: int, case: Case, g: Given
) -> None:
    payload = case(g)

    assert limit_errors(name, payload) == []
    assert stray_control_sequences(payload, g) == []


# ------------------------------------------------------------------------- what a person must always see


def section_texts(payload: Payload) -> str:
    return "\n".join(b["text"]["text"] for b in payload["blocks"] if b["type"] == "section" and "text" in b)


def test_the_approval_of_100_chained_exports_into_a_255_character_table_keeps_what_an_approver_must_see() -> None:
    request = restore_request(MAXIMAL, mode=RestoreMode.LOAD, sources=100)
    message = restore_blocks.approval_request(request)
    body = section_texts(message)

    assert f"*Target:* `{TABLE_255}` (us-east-1)" in body
    assert "*Expires:* <!date^1773108000^{date_short_pretty} {time}|2026-03-10T02:00:00Z>" in body
    assert "*Requested by:* <@U0ALICE>" in body
    assert f"*Plan hash:* `{request.plan_hash[:12]}`" in body
    assert re.search(r"… and \d+ more exports", body)
    (actions,) = [b for b in message["blocks"] if b["type"] == "actions"]
    approve, reject = actions["elements"]
    assert (approve["action_id"], reject["action_id"]) == ("restore_approve", "restore_reject")
    assert approve["value"] == reject["value"] == request.button_value
    confirm = approve["confirm"]["text"]["text"]
    assert len(confirm) <= 300 and confirm.startswith("Restore into `orders-xxx") and "…`" in confirm
    with SlackStandIn() as slack:
        client = WebClient(token="xoxb-test-token", base_url=slack.api_url)
        posted = client.chat_postMessage(channel="C0APPROVALS", text=message["text"], blocks=message["blocks"])
        assert posted["ok"] is True
        assert slack.messages("C0APPROVALS")[0].blocks == message["blocks"]


def test_a_decided_request_still_says_what_was_decided_and_on_what_target() -> None:
    note = f"Failed: {AWS_ERROR_5000}"
    message = restore_blocks.approval_settled(restore_request(MAXIMAL, status=RestoreStatus.FAILED), [], note=note)
    body = section_texts(message)

    assert ":x: *Restore failed* by <@U0BOB>, <@U0CAROL>" in body
    assert f"*Target:* `{TABLE_255}`" in body
    assert not [b for b in message["blocks"] if b["type"] == "actions"]


def test_long_lists_are_summarised_with_a_count_instead_of_being_cut_mid_line() -> None:
    jobs = [export_job(MAXIMAL, i) for i in range(1000)]
    listing = export_blocks.status_list("Recent exports (all tables)", jobs)["blocks"][1]["text"]["text"]
    lines = listing.split("\n")
    shown = len(lines) - 1

    assert lines[-1] == f"… and {1000 - shown:,} more exports"
    assert all(line.endswith("not by the bot") or "by <@U0ALICE>" in line for line in lines[:-1])
    report = restore_blocks.finished_note(restore_request(MAXIMAL), outcome(MAXIMAL))
    assert re.search(r"… and [\d,]+ more settings to set again", section_texts(report))
    assert re.search(r"Nothing to set for: .*, … and [\d,]+ more settings", section_texts(report))
    views = schedule_blocks.schedule_list([schedule_view(MAXIMAL)] * 1000)
    assert views["blocks"][-2]["elements"][0]["text"] == "… and 960 more schedules not shown."


def test_what_to_fix_and_the_on_call_mention_survive_a_5000_character_aws_error() -> None:
    failed = schedule_run(MAXIMAL, state=RunState.FAILED, fix="Turn PITR on with /ddb-pitr orders enable")
    report = schedule_blocks.run_report(RunReport(schedule(MAXIMAL), failed, None, ONCALL))
    error = blocks.error_message(AwsError(AWS_ERROR_5000, "Grant s3:PutObject to the bot's role."))
    export = export_blocks.export_finished(
        export_job(MAXIMAL, status=ExportStatus.FAILED), None, embedded_rates("us-east-1", "test")
    )
    with_oncall = blocks.oncall_section(replace_text(export, "x" * 5000), ONCALL)

    assert "What to fix: Turn PITR on" in section_texts(report)
    assert f"<!subteam^{ONCALL}> please take a look." in section_texts(report)
    assert "Grant s3:PutObject to the bot's role." in section_texts(error)
    assert "What to fix: Let the bot's role write to bucket acme-ddb-backups" in section_texts(export)
    assert with_oncall["text"].endswith(f"… <!subteam^{ONCALL}>")


def replace_text(message: Payload, text: str) -> Payload:
    return {**message, "text": text}


def test_a_message_of_more_than_50_blocks_keeps_its_buttons_and_says_what_it_left_out() -> None:
    actions = {"type": "actions", "elements": [blocks.button("Approve", "approve", "v")]}
    message = blocks.message("t", *[blocks.section(f"row {i}") for i in range(80)], actions)

    assert len(message["blocks"]) == 50
    assert message["blocks"][-1] == actions
    assert message["blocks"][-2]["elements"][0]["text"] == "… and 32 more parts not shown (Slack shows 50 blocks)."
    assert message_errors(message) == []


def test_shortening_never_splits_an_escape_or_a_mention_and_closes_a_code_span() -> None:
    assert blocks.shorten("a &amp; b", 6) == "a…"
    assert blocks.shorten("hi <@U0BOB> there", 8) == "hi…"
    assert blocks.shorten("see `a long identifier` here", 14) == "see `a long…`"
    assert blocks.code("x" * 300, 20) == "`" + "x" * 17 + "…`"
