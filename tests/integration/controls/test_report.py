"""`/ddb-report` end to end through the signed endpoint: tables in moto with exports in the bot's catalogue, a passed
drill, backup buckets with a lifecycle rule and with Object Lock; the evidence files the bot shares in the channel
hold exactly the real state of every table and control, `/ddb-coverage` names the failing controls, and bad input
or a channel the bot cannot share in gets a clear answer."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from bot.controls.evidence import HEADER
from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.drills.store import drills
from bot.models import ExportJob, ExportStatus
from bot.timefmt import iso
from bot.verification.models import ExportTarget
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import OPS, SIGNING_SECRET, BotFactory
from tests.support.aws_world import DEFAULT_ACCOUNT, account_credentials, client
from tests.support.restore_flow import wait_until
from tests.support.slack_requests import SignedSlackClient

VAULT_ACCOUNT = "111111111111"
VAULT = "acme-vault"
BACKUPS = "acme-ddb-backups"
CONFIG = """
[controls]
backup_every = "24h"
retention = "30d"
immutable = true
cross_account = true
restore_proven = "30d"
rto = "2h"

[tables.customers]
cross_account = false
restore_proven = "off"
rto = "off"
"""


@pytest.fixture
def bot(start_bot: BotFactory, s3: Any, ddb: Any, world: str, tmp_path: Path) -> BotRuntime:
    ddb.update_continuous_backups(
        TableName="customers", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=BACKUPS,
        LifecycleConfiguration={
            "Rules": [{"ID": "week", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 7}}]
        },
    )
    vault = client("s3", world, **account_credentials(world, VAULT_ACCOUNT))  # the vault is another account's
    vault.create_bucket(Bucket=VAULT, ObjectLockEnabledForBucket=True)
    vault.put_object_lock_configuration(
        Bucket=VAULT,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 40}},
        },
    )
    config = tmp_path / "controls.toml"
    config.write_text(CONFIG)
    return start_bot(config_file=config, operators=["U0ALICE"])


@pytest.fixture
def signed(bot: BotRuntime) -> SignedSlackClient:
    return SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)


def exported(bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, text: str) -> ExportJob:
    """/ddb-export `text` and wait until the bot recorded that export COMPLETED."""
    table = text.split()[0]
    before = {j.export_id for j in bot.services.core.store.recent_exports(table)}
    assert signed.command("/ddb-export", text, response_url=slack.response_url(OPS)).status == 200

    def completed() -> ExportJob | None:
        jobs = [j for j in bot.services.core.store.recent_exports(table) if j.export_id not in before]
        return jobs[0] if jobs and jobs[0].status == ExportStatus.COMPLETED else None

    return wait_until(completed, f"export {text} completed")


def passed_drill(bot: BotRuntime, job: ExportJob, seconds: float) -> tuple[str, datetime]:
    """A passed drill of `job` in the drill history, as the drill runner records one."""
    target = ExportTarget(
        job.export_id,
        job.export_arn,
        job.bucket,
        job.s3_prefix,
        job.bucket_owner,
        job.export_type,
        None,
        job.region,
        "o",
    )
    finished = datetime.now(UTC).replace(microsecond=0)
    spec = {
        "table_key": "orders",
        "account_alias": None,
        "region": "us-east-1",
        "export": {**asdict(target), "export_type": str(target.export_type), "key_names": []},
        "drill_table": "drill-orders-1",
        "table_snapshot": {},
        "expected_items": 3,
        "rto_seconds": 7200.0,
        "keep": False,
        "sample_size": 1000,
    }
    with bot.services.engine.begin() as connection:
        connection.execute(
            insert(drills),
            {
                "id": "d-0a1b2c3d",
                "table_key": "orders",
                "spec": spec,
                "status": "passed",
                "requested_by": "U0ALICE",
                "attempts": 1,
                "created_at": finished,
                "finished_at": finished,
                "result": {"recovery_seconds": seconds, "items_expected": 3, "items_imported": 3, "deleted": True},
            },
        )
    return "d-0a1b2c3d", finished


def report(signed: SignedSlackClient, slack: SlackStandIn, text: str = "all", said: str = "evidence") -> PostedMessage:
    seen = {m.ts for m in slack.messages()}
    response = signed.command("/ddb-report", text, response_url=slack.response_url(OPS, user="U0ALICE"))
    assert response.status == 200, response.body
    return slack.wait_for(
        lambda m: m.ts not in seen and m.via == "response_url" and said in m.text + json.dumps(m.blocks), timeout=90
    )


def shared_rows(slack: SlackStandIn) -> list[list[str]]:
    (csv_file,) = [f for f in slack.files(OPS) if f.filename.endswith(".csv")]
    rows = list(csv.reader(io.StringIO(csv_file.text)))
    assert tuple(rows[0]) == HEADER
    return rows[1:]


def test_the_evidence_file_rows_are_the_tables_real_state_with_their_proofs(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    here = exported(bot, signed, slack, "orders")
    vault = exported(bot, signed, slack, f"orders bucket={VAULT} owner={VAULT_ACCOUNT}")
    customers = exported(bot, signed, slack, "customers")
    drill_id, drilled = passed_drill(bot, vault, seconds=1800.0)

    answer = report(signed, slack)

    assert "Backup controls evidence" in answer.text, answer.text
    vault_at = iso(vault.export_time or vault.started_at or vault.created_at)
    customers_at = iso(customers.export_time or customers.started_at or customers.created_at)
    own = DEFAULT_ACCOUNT
    orders = [own, "us-east-1", "orders"]
    people = [own, "us-east-1", "customers"]
    expected = {
        ("orders", "backup frequency"): [*orders, "every 1d", "pass", vault.export_id, vault.export_arn, "", vault_at],
        ("orders", "retention"): [*orders, "at least 30 days", "pass", vault.export_id, vault.export_arn, "", vault_at],
        ("orders", "immutable copy"): [*orders, "Object Lock", "pass", vault.export_id, vault.export_arn, "", vault_at],
        ("orders", "copy in another account"): [
            *orders,
            "required",
            "pass",
            vault.export_id,
            vault.export_arn,
            "",
            vault_at,
        ],
        ("orders", "restore proven"): [
            *orders,
            "within 30d, restored in 2h at most",
            "pass",
            vault.export_id,
            "",
            drill_id,
            iso(drilled),
        ],
        ("customers", "backup frequency"): [
            *people,
            "every 1d",
            "pass",
            customers.export_id,
            customers.export_arn,
            "",
            customers_at,
        ],
        ("customers", "retention"): [
            *people,
            "at least 30 days",
            "fail",
            customers.export_id,
            customers.export_arn,
            "",
            customers_at,
        ],
        ("customers", "immutable copy"): [
            *people,
            "Object Lock",
            "fail",
            customers.export_id,
            customers.export_arn,
            "",
            customers_at,
        ],
        ("customers", "copy in another account"): [*people, "", "not required", "", "", "", ""],
        ("customers", "restore proven"): [*people, "", "not required", "", "", "", ""],
    }
    rows = {(r[2], r[3]): r for r in shared_rows(slack)}
    assert set(rows) == set(expected)
    for key, row in rows.items():
        assert [*row[:3], *row[4:6], *row[7:]] == expected[key], (key, "|".join(row))  # all but the reason
    assert "expires exports after 7 days" in rows[("customers", "retention")][6]
    assert "Object Lock COMPLIANCE, 40 days" in rows[("orders", "immutable copy")][6]
    assert here.export_id not in json.dumps(list(rows.values())), (
        "the newer vault export is the proof, not the older one"
    )

    markdown = next(f for f in slack.files(OPS) if f.filename.endswith(".md")).text
    assert "| customers | us-east-1 | 123456789012 | retention | fail |" in markdown
    (shared,) = [m for m in slack.messages(OPS) if m.via == "files.completeUploadExternal"]
    assert "Backup controls evidence for `all`" in shared.text and "<@U0ALICE>" in shared.text

    coverage = coverage_text(signed, slack)
    assert "controls: 1 of 3 pass; fails: retention, immutable copy" in coverage, coverage


def test_a_slow_restore_fails_the_rto_and_a_bucket_that_cannot_be_read_is_unknown(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any
) -> None:
    vault = exported(bot, signed, slack, f"orders bucket={VAULT} owner={VAULT_ACCOUNT}")
    passed_drill(bot, vault, seconds=3 * 3600.0)
    s3.delete_bucket_lifecycle(Bucket=BACKUPS)
    report(signed, slack)
    rows = {(r[2], r[3]): r for r in shared_rows(slack)}
    assert (
        rows[("orders", "restore proven")][5] == "fail"
        and "longer than the RTO" in rows[("orders", "restore proven")][6]
    )
    assert rows[("customers", "backup frequency")][5:7] == ["fail", "no completed export is known"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("nosuch", "`nosuch` is not an account alias (known: none are configured); or write `all`."),
        ("all prod", "I don't understand `prod`."),
        ("=cmd|' /C calc'!A0", "Unknown option `=`."),
        ("all region=mars", "`region=mars` is not an AWS region"),
    ],
)
def test_bad_input_is_refused_with_how_to_write_the_command_and_shares_nothing(
    signed: SignedSlackClient, slack: SlackStandIn, text: str, said: str
) -> None:
    response = signed.command("/ddb-report", text, response_url=slack.response_url(OPS))
    assert response.status == 200 and said in response.body and "/ddb-report [all|" in response.body
    assert slack.files() == []


def test_a_channel_the_bot_is_not_in_is_told_to_invite_it(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    slack.refuse_channel(OPS, "not_in_channel")
    answer = report(signed, slack, said="not a member")
    text = answer.text + json.dumps(answer.blocks)
    assert "I am not a member of it" in text and "/invite" in text and slack.files() == []


def coverage_text(signed: SignedSlackClient, slack: SlackStandIn) -> str:
    seen = {m.ts for m in slack.messages()}
    assert signed.command("/ddb-coverage", "", response_url=slack.response_url(OPS, user="U0ALICE")).status == 200
    answer = slack.wait_for(lambda m: m.ts not in seen and m.via == "response_url" and "coverage" in m.text, timeout=90)
    return answer.text + json.dumps(answer.blocks)
