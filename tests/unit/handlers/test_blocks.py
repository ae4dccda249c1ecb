"""Block Kit builders: foreign text is escaped, figures are labelled as estimates."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from bot.aws.pricing import embedded_rates
from bot.errors import PreconditionFailed, UsageError
from bot.models import ExportJob
from handlers.exports import blocks as export_blocks
from handlers.kit import blocks


def job(**changes: object) -> ExportJob:
    values: dict[str, object] = dict(  # noqa: C408
        export_arn="arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/01768385930622-efd1a093",
        export_id="01768385930622-efd1a093",
        table_key="orders",
        table_name="orders",
        table_arn="arn:aws:dynamodb:us-east-1:123456789012:table/orders",
        region="us-east-1",
        status="COMPLETED",
        export_type="FULL_EXPORT",
        export_format="DYNAMODB_JSON",
        bucket="acme",
        s3_prefix="p/orders/20260114T101850Z",
        requested_by="U0ALICE",
        started_at=datetime(2026, 1, 14, 10, 18, 50, tzinfo=UTC),
        ended_at=datetime(2026, 1, 14, 10, 24, 58, tzinfo=UTC),
        item_count=1234,
        billed_size_bytes=3 * 2**30,
    )
    values.update(changes)
    return ExportJob(**values)  # type: ignore[arg-type]


def rendered(message: blocks.Message) -> str:
    return message["text"] + json.dumps(message["blocks"])


def test_completed_export_shows_items_size_duration_location_and_cost() -> None:
    text = rendered(export_blocks.export_finished(job(), Decimal("0.30"), embedded_rates("us-east-1", "test")))
    for needle in (
        "COMPLETED",
        "1,234",
        "3.0 GiB",
        "6m 08s",
        "s3://acme/p/orders/20260114T101850Z/AWSDynamoDB/01768385930622-efd1a093/",
        "$0.30",
        "list prices for us-east-1",
        "<@U0ALICE>",
    ):
        assert needle in text, needle


def test_aws_failure_text_is_escaped_and_advice_given() -> None:
    failed = job(
        status="FAILED",
        failure_code="S3AccessDenied",
        failure_message="<!channel> denied & more",
        bucket_owner="222222222222",
    )
    text = rendered(export_blocks.export_finished(failed, None, embedded_rates("us-east-1", "test")))
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; denied &amp; more" in text
    assert "s3:PutObject" in text and "222222222222" in text


def test_error_messages_escape_and_show_usage() -> None:
    text = rendered(blocks.error_message(UsageError("bad <@U1>", "/ddb-x <table>")))
    assert "&lt;@U1&gt;" in text and "/ddb-x &lt;table&gt;" in text
    fix = rendered(blocks.error_message(PreconditionFailed("PITR off.", "Run `/ddb-pitr t enable`.")))
    assert "Run `/ddb-pitr t enable`." in fix


def test_sections_stay_within_slacks_limit() -> None:
    assert len(blocks.section("x" * 5000)["text"]["text"]) <= 3000


def test_code_spans_cannot_be_broken_out_of() -> None:
    assert blocks.code("a`b<c>") == "`a'b&lt;c&gt;`"


def test_notification_texts_escape_foreign_text_once() -> None:
    failed = job(status="FAILED", failure_code="S3<Denied> & more")
    text = export_blocks.export_finished(failed, None, embedded_rates("us-east-1", "test"))["text"]
    assert text.endswith("FAILED: S3&lt;Denied&gt; &amp; more")
    title = export_blocks.status_list("Exports of <!here>", [job()])["text"]
    assert title == "Exports of &lt;!here&gt;: 1 export"
