"""The controls of a survey's tables, read from a real database: a bucket is read once per report however many
tables export into it, a table without targets is not read at all, and a table's exports elsewhere (another region)
and a recovery's partial exports prove nothing for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from sqlalchemy import Engine

from bot.aws.accounts import AwsAccounts
from bot.aws.pricing import PriceBook
from bot.catalog.store import CatalogStore
from bot.config import Account, BotConfig, ControlTargets
from bot.controls.models import Control, Outcome
from bot.controls.service import ControlsBoard, ControlSources, controls_of
from bot.core import Core
from bot.coverage.models import CoverageReport, TableCoverage
from bot.demo.world import start_moto
from bot.drills.store import DrillStore
from bot.models import ExportFormat, ExportJob, ExportStatus, ExportType
from bot.store import Store
from tests.support.databases import database_kinds, schema_engine

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PROD = "111111111111"
ROLE = f"arn:aws:iam::{PROD}:role/ddb-backup-bot"
TARGETS = ControlTargets(backup_every=timedelta(hours=24), retention=timedelta(days=30), immutable=True)


@dataclass
class Kept:
    bucket: str
    prefix: str
    expiration_days: int | None = None
    object_lock_mode: str | None = "COMPLIANCE"
    object_lock_days: int | None = 40
    problem: str | None = None


@dataclass
class BucketReads:
    """A bucket reader that answers from what it was told and counts what it was asked (the network edge)."""

    asked: list[tuple[str, str, str | None]] = field(default_factory=list)

    def __call__(self, s3: Any, bucket: str, prefix: str, *, owner: str | None = None) -> Kept:
        self.asked.append((bucket, prefix, owner))
        return Kept(bucket, prefix)


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    server, endpoint = start_moto()
    yield endpoint
    server.stop()


@pytest.fixture(params=database_kinds())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with schema_engine(request.param, tmp_path) as engine:
        yield engine


@pytest.fixture
def core(engine: Engine, moto: str, monkeypatch: pytest.MonkeyPatch) -> Core:
    """The bot's use-case core over a real database (SQLite, PostgreSQL); AWS (the alias's role) is moto's server."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1")
    config = BotConfig(controls=TARGETS, table_controls={"prod:scratch": ControlTargets()})
    aws = AwsAccounts(session, {"prod": Account("prod", ROLE, "us-east-1")})
    return Core(aws=aws, store=Store(engine), prices=PriceBook(lambda: None), config=config, clock=lambda: NOW)


def record(core: Core, table: str, export_id: str, hours_ago: float, *, region: str = "us-east-1") -> None:
    at = NOW - timedelta(hours=hours_ago)
    arn = f"arn:aws:dynamodb:{region}:{PROD}:table/{table}"
    core.store.record_export(
        ExportJob(
            export_arn=f"{arn}/export/{export_id}",
            export_id=export_id,
            table_key=f"prod:{table}",
            table_name=table,
            table_arn=arn,
            region=region,
            status=ExportStatus.COMPLETED,
            export_type=ExportType.FULL,
            export_format=ExportFormat.DYNAMODB_JSON,
            bucket="acme-backups",
            s3_prefix="ddb",
            requested_by="U0ALICE",
            account_alias="prod",
            export_time=at,
        )
    )


def survey(*names: str) -> CoverageReport:
    tables = tuple(TableCoverage(f"prod:{n}", "prod", "us-east-1", True, 35, True, None, True) for n in names)
    return CoverageReport(NOW, tables, (), timedelta(days=7), places=1)


def sources(
    core: Core, reads: BucketReads, partial: set[str] | None = None, gone: set[str] | None = None
) -> ControlSources:
    engine = core.store.engine
    return ControlSources(
        core, CatalogStore(engine), DrillStore(engine), reads, lambda: set(partial or ()), lambda: set(gone or ())
    )


def test_tables_sharing_a_bucket_read_it_once_and_a_table_without_targets_not_at_all(core: Core) -> None:
    names = [f"t{i}" for i in range(40)]
    for index, name in enumerate(names):
        record(core, name, f"0176000000{index:04d}-e", hours_ago=2)
    record(core, "scratch", "01760000009999-e", hours_ago=2)
    reads = BucketReads()
    report = controls_of(sources(core, reads), survey(*names, "scratch"))
    assert reads.asked == [("acme-backups", "ddb", None)]
    assert {t.key: t.passed for t in report.tables} == {**{f"prod:{n}": 3 for n in names}, "prod:scratch": 0}
    scratch = report.of("prod:scratch", "us-east-1")
    assert scratch is not None and {r.outcome for r in scratch.results} == {Outcome.NOT_REQUIRED}
    assert report.tables[0].account == PROD


def test_an_export_elsewhere_a_recoverys_partial_export_or_one_deleted_early_proves_nothing(core: Core) -> None:
    record(core, "orders", "01760000000003-old", hours_ago=30)
    record(core, "orders", "01760000000004-deleted", hours_ago=3)
    record(core, "orders", "01760000000001-eu", hours_ago=1, region="eu-west-1")
    record(core, "orders", "01760000000002-partial", hours_ago=1)
    partial = {f"arn:aws:dynamodb:us-east-1:{PROD}:table/orders/export/01760000000002-partial"}
    report = controls_of(sources(core, BucketReads(), partial, {"01760000000004-deleted"}), survey("orders"))
    (frequency,) = [r for r in report.tables[0].results if r.control == Control.BACKUP_EVERY]
    assert frequency.outcome == Outcome.FAIL and frequency.proof.export_id == "01760000000003-old"


def test_the_board_judges_one_survey_once_and_a_new_survey_again(core: Core) -> None:
    record(core, "orders", "01760000000001-e", hours_ago=1)
    reads = BucketReads()
    board = ControlsBoard(sources(core, reads))
    first = survey("orders")
    assert board.of(first) is board.of(first) and len(reads.asked) == 1
    board.of(survey("orders"))
    assert len(reads.asked) == 2


def test_the_newest_export_is_the_one_holding_the_latest_moment_not_the_last_recorded(core: Core) -> None:
    record(core, "orders", "01760000000001-recent", hours_ago=2)
    record(core, "orders", "01760000000002-learnt-late", hours_ago=50)  # an old export the bot learnt of later
    report = controls_of(sources(core, BucketReads()), survey("orders"))
    (frequency,) = [r for r in report.tables[0].results if r.control == Control.BACKUP_EVERY]
    assert frequency.outcome == Outcome.PASS and frequency.proof.export_id == "01760000000001-recent"
