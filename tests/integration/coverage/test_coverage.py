"""`/ddb-coverage` end to end: tables of the bot's own account and of an aliased account (through its assumed role)
with and without PITR, exports and schedules, worst first; an account that refuses to be listed is named with the
reason, never left out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from sqlalchemy import insert

from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.drills.models import DrillSpec, DrillStatus, new_drill_id
from bot.drills.store import drills
from bot.models import ExportType
from bot.timefmt import iso
from bot.verification.models import ExportTarget
from handlers.coverage.blocks import ENABLE_PITR_ACTION
from handlers.coverage.schedule_form import SCHEDULE_ACTION
from tests.integration.conftest import OPS, SIGNING_SECRET, BotFactory
from tests.support.aws_proxy import AwsFaultProxy, Fault
from tests.support.aws_world import DEFAULT_ACCOUNT, account_credentials, client, create_table
from tests.support.restore_flow import export_table, wait_until
from tests.support.schedules import schedule_command
from tests.support.slack_requests import SignedSlackClient

PROD, BROKEN = "111111111111", "222222222222"


@pytest.fixture
def front(world: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsFaultProxy]:
    proxy = AwsFaultProxy(world, lambda _operation, _body: None)
    proxy.refused_regions["eu-central-2"] = Fault(
        400, "AccessDeniedException", "User: arn:aws:sts::222222222222:assumed-role/x is not authorized to perform"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BACKUP", proxy.url)
    yield proxy
    proxy.close()


@pytest.fixture
def bot(start_bot: BotFactory, front: AwsFaultProxy, world: str, tmp_path: Path) -> Any:
    config = tmp_path / "accounts.toml"
    config.write_text(
        f'[accounts.prod]\nrole_arn = "arn:aws:iam::{PROD}:role/ddb-backup-bot"\nregions = ["us-east-1", "eu-west-1"]\n\n'
        f'[accounts.broken]\nrole_arn = "arn:aws:iam::{BROKEN}:role/ddb-backup-bot"\nregion = "eu-central-2"\n'
    )
    credentials = account_credentials(world, PROD)
    prod = client("dynamodb", world, **credentials)
    create_table(prod, "ledger", pitr=True, items=[{"pk": {"S": "prod#1"}, "sk": {"S": "a"}}])
    prod_eu = boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=world, **credentials)
    create_table(prod_eu, "ledger-eu", pitr=True, items=[])
    return start_bot(config_file=config, operators=["U0ALICE"])


def coverage(slack: SlackStandIn, signed: SignedSlackClient, text: str = "", user: str = "U0ALICE") -> str:
    return as_text(coverage_answer(slack, signed, text, user))


def as_text(message: PostedMessage) -> str:
    return message.text + json.dumps(message.blocks)


def coverage_answer(slack: SlackStandIn, signed: SignedSlackClient, text: str = "", user: str = "U0ALICE") -> Any:
    seen = {m.ts for m in slack.messages()}
    response = signed.command("/ddb-coverage", text, user_id=user, response_url=slack.response_url(OPS, user=user))
    assert response.status == 200, response.body
    return slack.wait_for(
        lambda m: (
            m.ts not in seen and m.via == "response_url" and ("coverage" in m.text or "alias" in json.dumps(m.blocks))
        ),
        timeout=60,
    )


def test_every_account_is_surveyed_worst_first_and_an_unreadable_one_is_named(bot: Any, slack: SlackStandIn) -> None:
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    export_table(bot, signed, slack, "orders")
    schedule_command(signed, slack, 'add orders cron="0 2 * * *"')
    body = coverage(slack, signed, "all")

    assert "4 tables in 4 places" in body and "1 without PITR" in body and "1 place not read" in body
    assert "`prod:ledger-eu` (eu-west-1)" in body, "each of an alias's regions is surveyed"
    customers, ledger = body.index("`customers`"), body.index("`prod:ledger`")
    assert customers < ledger, "PITR off comes first"
    assert "PITR off, never exported, no schedule" in body[customers : customers + 200]
    assert "never exported, no schedule" in body[ledger : ledger + 200]
    orders = body.index("`orders`")
    assert "deletion protection off" in body[orders : orders + 200] and "PITR off" not in body[orders : orders + 80]
    not_read = body[body.index("Not read") :]
    assert "`broken` eu-central-2" in not_read and "ListTables" in not_read
    assert "AccessDeniedException" not in body, "AWS's error is translated, not shown raw"


def test_a_second_survey_within_the_cache_period_asks_aws_nothing(
    bot: Any, slack: SlackStandIn, front: AwsFaultProxy
) -> None:
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    first = coverage(slack, signed)
    asked = len(front.seen)
    assert "ListTables" in front.seen and "DescribeContinuousBackups" in front.seen and "ListExports" in front.seen
    assert coverage(slack, signed) == first
    assert len(front.seen) == asked, "answered from the cache"


def test_a_paused_or_drill_only_schedule_is_not_export_coverage_and_the_row_says_which(
    bot: Any, slack: SlackStandIn
) -> None:
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    schedule_command(signed, slack, 'add orders cron="0 2 * * *"')
    (orders,) = bot.services.schedules.store.all()
    schedule_command(signed, slack, f"pause {orders.id}")
    schedule_command(signed, slack, 'add customers cron="0 6 * * 1" type=drill')
    assert len(bot.services.schedules.store.all()) == 2

    rows = coverage_rows(coverage_answer(slack, signed))

    assert rows["`orders` (us-east-1)"].startswith("never exported, no schedule (paused),")
    assert rows["`customers` (us-east-1)"].startswith("PITR off, never exported, no schedule (drills only),")


def test_a_same_named_table_in_another_region_lends_neither_its_schedule_nor_its_export(
    bot: Any, slack: SlackStandIn, world: str
) -> None:
    """`prod:ledger` names the us-east-1 table (the account's region); prod's eu-west-1 has a `ledger` too."""
    credentials = account_credentials(world, PROD)
    create_table(
        boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=world, **credentials),
        "ledger",
        pitr=True,
        items=[],
    )
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    client("s3", world, **credentials).create_bucket(Bucket="prod-backups")
    signed.command("/ddb-export", "prod:ledger bucket=prod-backups", response_url=slack.response_url(OPS))
    done = wait_until(
        lambda: [j for j in bot.services.core.store.recent_exports("prod:ledger") if j.status == "COMPLETED"], "export"
    )
    assert done[0].region == "us-east-1"
    schedule_command(signed, slack, 'add prod:ledger cron="0 2 * * *"')

    rows = coverage_rows(coverage_answer(slack, signed, "prod"))

    assert rows["`prod:ledger` (eu-west-1)"].startswith("never exported, no schedule,"), "nothing lent to it"
    assert rows["`prod:ledger` (us-east-1)"].startswith("deletion protection off (PITR 35 days; exported <!date^")


def test_each_tables_newest_restore_drill_is_flagged_when_it_failed_or_is_old(bot: Any, slack: SlackStandIn) -> None:
    now = datetime.now(UTC)
    record_drill(bot, "orders", DrillStatus.PASSED, now - timedelta(days=3))
    record_drill(bot, "orders", DrillStatus.FAILED, now - timedelta(days=1))
    record_drill(bot, "customers", DrillStatus.FAILED, now - timedelta(days=3))
    record_drill(bot, "customers", DrillStatus.PASSED, now - timedelta(days=1))
    record_drill(bot, "prod:ledger", DrillStatus.PASSED, now - timedelta(days=45))
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)

    rows = coverage_rows(coverage_answer(slack, signed))

    assert "last restore drill failed" in rows["`orders` (us-east-1)"], "its newest drill failed"
    assert "restore drill" not in rows["`customers` (us-east-1)"], "its newest drill passed a day ago"
    assert "last restore drill 45 days ago" in rows["`prod:ledger` (us-east-1)"]


def record_drill(bot: Any, table_key: str, status: DrillStatus, finished: datetime) -> None:
    """A finished drill in the bot's database, as the drill runner leaves it (written directly: running one takes a
    restore of its own, and only its row matters to coverage)."""
    target = ExportTarget("01768385930622-efd1a093", None, "b", "p", None, ExportType.FULL, None, "us-east-1", "x")
    spec = DrillSpec(table_key, None, "us-east-1", target, "drill-table", {}, 3)
    row = {"id": new_drill_id(), "table_key": table_key, "status": status, "requested_by": "U0ALICE", "attempts": 1}
    row |= {"spec": json.loads(json.dumps(asdict(spec))), "result": {}}
    row |= {"created_at": finished - timedelta(minutes=5), "finished_at": finished}
    with bot.services.drills.store.engine.begin() as connection:
        connection.execute(insert(drills), row)


def coverage_rows(message: Any) -> dict[str, str]:
    """`key` (region) → the rest of its row, from the answer's table sections."""
    lines = [
        line.removeprefix("• ")
        for block in message.blocks
        if block.get("type") == "section"
        for line in block["text"]["text"].split("\n")
        if line.startswith("• `")
    ]
    return dict(line.split(" · ", 1) for line in lines if " · " in line)


def test_one_alias_is_surveyed_alone_and_an_unknown_one_says_which_exist(bot: Any, slack: SlackStandIn) -> None:
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    body = coverage(slack, signed, "prod")
    assert "2 tables in 2 places" in body and "`prod:ledger`" in body and "`customers`" not in body
    response = signed.command("/ddb-coverage", "staging", response_url=slack.response_url(OPS))
    refused = response.body  # a usage error is the acknowledgement itself
    assert "`staging` is not an account alias" in refused and "`broken`, `prod`" in refused


def test_an_operator_turns_pitr_on_from_a_row_and_a_non_operator_is_refused(
    bot: Any, slack: SlackStandIn, ddb: Any
) -> None:
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    assert not all_buttons(coverage_answer(slack, signed, user="U0BOB")), "no buttons for those who may not use them"
    answer = coverage_answer(slack, signed)
    assert row_buttons(answer, ENABLE_PITR_ACTION) == {"customers": f"{ENABLE_PITR_ACTION}:0"}, (
        "one Enable PITR: the one table without PITR"
    )

    refused = signed.click(
        f"{ENABLE_PITR_ACTION}:0",
        "customers",
        message_ts=answer.ts,
        channel_id=OPS,
        user_id="U0BOB",
        response_url=slack.response_url(OPS, user="U0BOB"),
    )
    assert refused.status == 200
    slack.wait_for(lambda m: m.via == "response_url" and "operators" in as_text(m).lower(), timeout=60)
    assert pitr_status(ddb, "customers") == "DISABLED", "a refused click changes nothing"

    signed.click(
        f"{ENABLE_PITR_ACTION}:0",
        "customers",
        message_ts=answer.ts,
        channel_id=OPS,
        user_id="U0ALICE",
        response_url=slack.response_url(OPS, user="U0ALICE"),
    )
    slack.wait_for(lambda m: m.via == "response_url" and "just turned on" in as_text(m), timeout=60)
    assert pitr_status(ddb, "customers") == "ENABLED"
    assert pitr_status(ddb, "orders") == "ENABLED", "the other tables are untouched"
    after = coverage(slack, signed)
    assert "0 without PITR" in after, "the cached survey was dropped after the change"


def test_with_several_unprotected_tables_an_operator_gets_a_button_per_table_and_each_one_works(
    bot: Any, slack: SlackStandIn, ddb: Any
) -> None:
    """Slack refuses a block holding one action_id twice: with two tables lacking PITR and a schedule the answer
    used to be refused (`invalid_blocks`), so the operator saw nothing while the command was audited "ok"."""
    create_table(ddb, "invoices", pitr=False, items=[])
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)

    answer = coverage_answer(slack, signed)

    enable = row_buttons(answer, ENABLE_PITR_ACTION)
    assert enable == {"customers": f"{ENABLE_PITR_ACTION}:0", "invoices": f"{ENABLE_PITR_ACTION}:1"}
    assert set(row_buttons(answer, SCHEDULE_ACTION)) >= {"customers", "invoices", "orders"}
    assert all(len({b["action_id"] for b in row}) == len(row) for row in action_rows(answer)), "unique in each block"
    assert not [c for c in slack.calls if c.error == "invalid_blocks"], "Slack took every answer"
    assert wait_until(lambda: audit_of(bot, "/ddb-coverage"), "the command's audit entry")["result"] == "ok"

    signed.click(
        enable["invoices"],
        "invoices",
        message_ts=answer.ts,
        channel_id=OPS,
        user_id="U0ALICE",
        response_url=slack.response_url(OPS, user="U0ALICE"),
    )
    slack.wait_for(lambda m: m.via == "response_url" and "just turned on" in as_text(m), timeout=15)
    assert (pitr_status(ddb, "invoices"), pitr_status(ddb, "customers")) == ("ENABLED", "DISABLED")


def action_rows(message: Any) -> list[list[dict[str, Any]]]:
    return [block["elements"] for block in message.blocks if block.get("type") == "actions"]


def audit_of(bot: Any, action: str) -> dict[str, Any] | None:
    entries = bot.services.core.store.audit_entries(action=action)
    return entries[0] if entries else None


def pitr_status(ddb: Any, table: str) -> str:
    description = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    return str(description["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"])


def test_an_operator_schedules_nightly_exports_of_an_unscheduled_table_from_its_row(
    bot: Any, slack: SlackStandIn
) -> None:
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    answer = coverage_answer(slack, signed)
    assert list(row_buttons(answer, SCHEDULE_ACTION)) == ["customers", "orders", "prod:ledger"], (
        "worst first; eu-west-1 needs the command"
    )
    signed.click(
        row_buttons(answer, SCHEDULE_ACTION)["customers"],
        "customers",
        message_ts=answer.ts,
        channel_id=OPS,
        user_id="U0ALICE",
        response_url=slack.response_url(OPS, user="U0ALICE"),
    )
    opened = wait_until(lambda: next((c for c in slack.calls if c.method == "views.open"), None), "the form", 60)
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert "0 2 * * *" in json.dumps(view) and "acme-ddb-backups" in json.dumps(view), (
        "prefilled: nightly, default bucket"
    )
    values = {
        "schedule_cron": {"value": {"type": "plain_text_input", "value": "0 2 * * *"}},
        "schedule_type": {"value": {"type": "radio_buttons", "selected_option": {"value": "full"}}},
        "schedule_bucket": {"value": {"type": "plain_text_input", "value": "acme-ddb-backups"}},
    }
    response = signed.view_submission(
        "coverage_schedule_form", values, user_id="U0ALICE", private_metadata=view["private_metadata"]
    )
    assert response.status == 200 and not response.body
    added = slack.wait_for(lambda m: m.ephemeral and "added" in m.text, timeout=60)
    assert "customers" in as_text(added)
    schedules = bot.services.schedules.store.all()
    assert [(s.table, s.cron, s.options) for s in schedules] == [
        ("customers", "0 2 * * *", {"bucket": "acme-ddb-backups"})
    ]

    bad = dict(values, schedule_cron={"value": {"type": "plain_text_input", "value": "every night"}})
    refused = signed.view_submission(
        "coverage_schedule_form", bad, user_id="U0ALICE", private_metadata=view["private_metadata"]
    )
    assert refused.json()["response_action"] == "errors" and "schedule_cron" in refused.json()["errors"]


def all_buttons(message: Any) -> list[dict[str, Any]]:
    return [
        element for block in message.blocks if block.get("type") == "actions" for element in block.get("elements", [])
    ]


def row_buttons(message: Any, action: str) -> dict[str, str]:
    """table → action_id of the message's `action` buttons (one per table, numbered: `action:0`, `action:1`…)."""
    return {b["value"]: b["action_id"] for b in all_buttons(message) if b["action_id"].split(":")[0] == action}


def test_tables_aws_backup_protects_are_counted_and_a_place_where_it_cannot_be_asked_is_named(
    bot: Any, slack: SlackStandIn, front: AwsFaultProxy
) -> None:
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    body = coverage(slack, signed)
    assert "0 protected by AWS Backup" in body, "moto has no ListProtectedResources: nothing is claimed"
    not_read = body[body.index("Not read") :]
    assert "(AWS Backup): AWS Backup is not available or not used in us-east-1" in not_read, "its 404 is told as such"
    assert "backup:ListProtectedResources" not in not_read, "and not as a missing permission"
    assert "doctype" not in body.lower(), "what AWS (here moto) answered is not shown raw"

    front.refused_paths["/resources/"] = Fault(403, "AccessDeniedException", "not authorized")
    bot.services.coverage.forget()
    refused = coverage(slack, signed)
    assert "not checked: the bot's role may not list what AWS Backup protects" in refused
    assert "allow the bot's role backup:ListProtectedResources" in refused
    del front.refused_paths["/resources/"]

    orders = f"arn:aws:dynamodb:us-east-1:{DEFAULT_ACCOUNT}:table/orders"
    front.canned["/resources/"] = {"Results": [{"ResourceArn": orders, "ResourceType": "DynamoDB"}]}
    bot.services.coverage.forget()
    body = coverage(slack, signed)
    assert "1 protected by AWS Backup" in body


def test_one_region_of_an_account_that_cannot_be_listed_is_named_and_every_other_place_is_shown(
    bot: Any, slack: SlackStandIn, front: AwsFaultProxy
) -> None:
    front.refused_in_region[("eu-west-1", "ListTables")] = Fault(
        400, "AccessDeniedException", "User: arn:aws:sts::111111111111:assumed-role/x is not authorized to perform"
    )
    body = coverage(slack, SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET), "all")
    assert "3 tables in 4 places" in body and "2 places not read" in body
    assert "`prod:ledger`" in body and "`orders`" in body and "`customers`" in body, "the other places are shown"
    assert "`prod:ledger-eu`" not in body
    not_read = body[body.index("Not read") :]
    assert "`prod` eu-west-1" in not_read and "AWS denied dynamodb:ListTables" in not_read, "named, translated"
    assert "`broken` eu-central-2" in not_read


def test_a_table_whose_answer_makes_no_sense_is_named_and_every_other_table_is_shown(
    bot: Any, slack: SlackStandIn, front: AwsFaultProxy
) -> None:
    front.refused_in_region[("eu-west-1", "DescribeTable")] = Fault(200, "NotADynamoDbAnswer", "a proxy's page")
    body = coverage(slack, SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET), "all")
    assert "4 tables in 4 places" in body, "one table's unexpected answer does not sink the survey"
    ledger_eu = body[body.index("`prod:ledger-eu`") :]
    assert "could not be read: something went wrong reading it (reference" in ledger_eu[:300]
    assert "`prod:ledger`" in body and "PITR off, never exported, no schedule" in body


def test_exports_only_the_account_wide_listing_shows_are_found_on_every_page_and_grouped_by_table(
    bot: Any, slack: SlackStandIn, front: AwsFaultProxy
) -> None:
    """Exports the bot did not start, from one ListExports of each account and region (25 a page, newest ARN first):
    `customers`' are on the second page, behind 30 of a deleted table; ListExports per table is refused here, so only
    the account-wide listing can show them. A newer export that failed is no export."""
    now = datetime.now(UTC).replace(microsecond=0)
    owner = f"arn:aws:dynamodb:us-east-1:{DEFAULT_ACCOUNT}:table/"

    def export(table: str, started: datetime, status: str = "COMPLETED") -> dict[str, str]:
        export_id = f"{int(started.timestamp() * 1000):014d}-0a1b2c{len(front.exports.extra):02x}"
        return {"ExportArn": f"{owner}{table}/export/{export_id}", "ExportStatus": status, "ExportType": "FULL_EXPORT"}

    front.exports.extra += [export("zz-retired", now - timedelta(days=1, minutes=i)) for i in range(30)]
    front.exports.extra += [export("customers", now - timedelta(days=20)), export("customers", now - timedelta(days=2))]
    front.exports.extra.append(export("customers", now - timedelta(hours=1), status="FAILED"))
    refused = Fault(400, "AccessDeniedException", "not per table")
    front.decide = lambda operation, body: refused if operation == "ListExports" and b"TableArn" in body else None

    rows = coverage_rows(coverage_answer(slack, signed=SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)))

    customers = rows["`customers` (us-east-1)"]
    assert "never exported" not in customers and f"|{iso(now - timedelta(days=2))}>)" in customers  # <!date^…|fallback>
    assert rows["`orders` (us-east-1)"].startswith("never exported"), "another table's exports lend it nothing"
    assert front.seen.count("ListExports") == 4, "two pages here, one in each of prod's regions; none per table"


def test_a_place_whose_exports_cannot_be_listed_names_its_tables_and_every_other_place_is_shown(
    bot: Any, slack: SlackStandIn, front: AwsFaultProxy
) -> None:
    front.refused_in_region[("eu-west-1", "ListExports")] = Fault(
        400, "AccessDeniedException", "User: arn:aws:sts::111111111111:assumed-role/x is not authorized to perform"
    )
    body = coverage(slack, SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET), "all")
    assert "4 tables in 4 places" in body
    ledger_eu = body[body.index("`prod:ledger-eu`") :][:400]
    assert "could not be read" in ledger_eu and "dynamodb:ListExports" in ledger_eu, "named, translated"
    assert "AccessDeniedException" not in body
    assert "PITR off, never exported, no schedule" in body, "`customers` of the bot's account is read"
    ledger = body[body.index("`prod:ledger`") :][:200]
    assert "could not be read" not in ledger, "prod's other region is read"
