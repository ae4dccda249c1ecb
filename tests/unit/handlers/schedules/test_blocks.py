"""Schedule messages as data: escaped foreign text, on-call mentions, the digest's flags."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from bot.models import ExportJob, ExportStatus
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
    ScheduleView,
)
from handlers.kit import blocks as kit_blocks
from handlers.schedules import blocks as schedule_blocks

T0 = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
SCHEDULE = Schedule(
    id="nightly",
    table="orders",
    table_key="orders",
    cron="0 2 * * *",
    timezone="Europe/Paris",
    export_type="full",
    options={"prefix": "<!channel>"},
    channel="C0BACKUPS",
    source=ScheduleSource.CONFIG,
    paused=False,
    created_by="config",
    created_at=T0,
    active_since=T0,
)
JOB = ExportJob(
    export_arn="arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/01768385930622-efd1a093",
    export_id="01768385930622-efd1a093",
    table_key="orders",
    table_name="orders",
    table_arn="arn:aws:dynamodb:us-east-1:123456789012:table/orders",
    region="us-east-1",
    status=ExportStatus.COMPLETED,
    export_type="FULL_EXPORT",
    export_format="DYNAMODB_JSON",
    bucket="acme-ddb-backups",
    s3_prefix="nightly/orders/20260310T010000Z",
    requested_by="schedule:nightly",
    schedule_id="nightly",
    ended_at=T0,
)


def a_run(**changes: object) -> ScheduleRun:
    values: dict[str, object] = {
        "id": 1,
        "schedule_id": "nightly",
        "fire_time": T0,
        "kind": RunKind.SCHEDULED,
        "state": RunState.STARTED,
        "holder": "a",
        "claimed_at": T0,
    }
    values.update(changes)
    return ScheduleRun(**values)  # type: ignore[arg-type]


def test_a_failed_run_says_what_to_fix_and_mentions_the_on_call_group() -> None:
    run = a_run(state=RunState.FAILED, error="PITR is off for <orders>", fix="Turn it on with /ddb-pitr orders enable")
    message = schedule_blocks.run_report(RunReport(SCHEDULE, run, None, oncall="S0ONCALL"))
    body = json.dumps(message["blocks"])
    assert "<!subteam^S0ONCALL>" in body
    assert "PITR is off for &lt;orders&gt;" in body
    assert "What to fix: Turn it on" in body


def test_a_failed_runs_notification_text_carries_the_aws_error_escaped_once() -> None:
    run = a_run(state=RunState.FAILED, error="AccessDenied for <!channel> & <@U0EVIL> on <#C0EVIL>")
    message = schedule_blocks.run_report(RunReport(SCHEDULE, run, None, oncall="S0ONCALL"))

    assert message["text"] == (
        "Scheduled run of nightly failed: AccessDenied for &lt;!channel&gt; &amp; &lt;@U0EVIL&gt; on &lt;#C0EVIL&gt;"
    )


def test_the_on_call_mention_ends_a_long_notification_text_instead_of_being_cut_off() -> None:
    result = {
        "text": "Export x FAILED: " + "e" * 5000,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
    }

    text = kit_blocks.oncall_section(result, "S0ONCALL")["text"]

    assert len(text) <= 3000 and text.endswith("e… <!subteam^S0ONCALL>")


def test_a_catch_up_run_says_so() -> None:
    run = a_run(kind=RunKind.CATCH_UP, plan=ExportPlan("FULL_EXPORT"))
    message = schedule_blocks.run_report(RunReport(SCHEDULE, run, JOB))
    text = json.dumps(message["blocks"])
    assert message["text"].startswith("Catch-up run of nightly")
    assert "missed while the bot was down" in text and JOB.export_id in text


def test_options_from_users_are_escaped_in_every_listing() -> None:
    view = ScheduleView(
        SCHEDULE, (T0,), a_run(export_arn=JOB.export_arn), JOB, 30.0, Decimal("1.5"), "30 full", "us-east-1"
    )
    body = json.dumps(schedule_blocks.schedule_list([view])["blocks"])
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body
    assert "$1.50 per month" in body and "completed" in body and "<#C0BACKUPS>" in body


def test_the_on_call_section_is_added_to_a_failed_scheduled_export() -> None:
    result = {"text": "Export x FAILED", "blocks": [{"type": "section"}]}
    with_oncall = kit_blocks.oncall_section(result, "U0BOB")
    assert with_oncall["text"].endswith("<@U0BOB>") and len(with_oncall["blocks"]) == 2
    assert kit_blocks.mention("@oncall <!here>") == "@oncall &lt;!here&gt;"


def test_the_digest_puts_flagged_tables_first_with_their_reasons() -> None:
    digest = Digest(
        at=T0,
        tables=(
            DigestTable("customers", None, None, False, Decimal(0), ("PITR is off", "no successful export ever")),
            DigestTable("orders", JOB, T0, True, Decimal("0.42")),
        ),
        region_note="Estimates.",
    )
    message = schedule_blocks.digest_message(digest)
    body = json.dumps(message["blocks"])
    assert "1 table needs attention" in message["text"]
    assert body.index("customers") < body.index("orders")
    assert "Flagged: PITR is off; no successful export ever" in body and "$0.42" in body
