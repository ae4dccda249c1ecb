"""The restore messages as data: buttons bound to the plan hash, decided states without buttons, escaping."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.models import ExportJob
from bot.restores.models import Approval, Estimate, RestoreRequest, RestoreStatus, SourceSummary
from bot.restores.notify import CarryOver, RestoreOutcome, RestoreProgress
from handlers.kit.text import when
from handlers.restores import blocks as rb
from handlers.restores import form_blocks as fb
from tests.support.restore_fakes import START, load_plan, plan


def request(**changes: object) -> RestoreRequest:
    chosen = plan(table={"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"})
    base = RestoreRequest(
        id="r-0123456789",
        status="PENDING",
        plan=chosen,
        plan_hash=chosen.digest(),
        requested_by="U0ALICE",
        required_approvals=2,
        created_at=START,
        expires_at=START + timedelta(hours=1),
        sources=(SourceSummary("arn", table="orders<&>", export_id="01768385930622-efd1a093", item_count=1234),),
        estimate=Estimate("$0.15", 720.0, "ImportTable at $0.15/GB <list price>"),
        approval_channel="C0APPROVALS",
        approval_ts="1.000100",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def buttons(message: dict) -> list[dict]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_approval_message_has_approve_and_reject_bound_to_the_plan_hash() -> None:
    the_request = request()
    message = rb.approval_request(the_request)
    found = buttons(message)
    assert [b["action_id"] for b in found] == [rb.APPROVE_ACTION, rb.REJECT_ACTION]
    assert {b["value"] for b in found} == {f"r-0123456789:{the_request.plan_hash}"}
    text = json.dumps(message)
    for expected in ("orders-restored", "1,234 items", "$0.15", "Expires", "2026-01-14T11:00:00Z", "<@U0ALICE>"):
        assert expected in text


def test_foreign_text_is_escaped() -> None:
    text = json.dumps(rb.approval_request(request()))
    assert "orders&lt;&amp;&gt;" in text and "orders<&>" not in text
    assert "&lt;list price&gt;" in text


def test_partial_approvals_are_shown_and_buttons_stay() -> None:
    message = rb.approval_request(request(), [Approval("r-0123456789", "U0BOB", START)])
    assert "Approved so far by <@U0BOB> (1 of 2)" in json.dumps(message)
    assert len(buttons(message)) == 2


def test_a_decided_request_shows_who_and_when_and_has_no_buttons() -> None:
    approvals = [Approval("r-0123456789", "U0BOB", START), Approval("r-0123456789", "U0CAROL", START)]
    approved = rb.approval_settled(
        request(status=RestoreStatus.APPROVED, decided_at=START, decided_by="U0BOB,U0CAROL"), approvals
    )
    assert buttons(approved) == []
    assert f"<@U0BOB>, <@U0CAROL> at {when(START)}" in json.dumps(approved)
    rejected = rb.approval_settled(request(status=RestoreStatus.REJECTED, decided_at=START, decided_by="U0BOB"), [])
    assert "Rejected" in json.dumps(rejected) and buttons(rejected) == []
    expired = rb.approval_settled(
        request(status=RestoreStatus.EXPIRED, decided_at=START, decided_by="ddb-backup-bot"), []
    )
    assert "Expired" in json.dumps(expired) and buttons(expired) == []


def test_the_report_lists_what_to_set_again() -> None:
    outcome = RestoreOutcome(
        item_count=3,
        not_carried_over=(
            CarryOver("TTL", "on, attribute `expires`", "aws dynamodb update-time-to-live ..."),
            CarryOver("Streams", "off on the source", "nothing to set", needed=False),
        ),
    )
    text = json.dumps(rb.finished_note(request(status=RestoreStatus.SUCCEEDED), outcome))
    assert "TTL" in text and "update-time-to-live" in text and "Nothing to set for: Streams" in text
    assert rb.carry_over_summary(request(), outcome) == (
        "Set again on the new table: TTL (commands in the approval thread)."
    )


def test_progress_line() -> None:
    load = request(plan=load_plan())
    text = rb.progress_note(load, RestoreProgress(items=1500, files_done=2, files_total=7, rate_per_second=750.0))
    assert "files 2/7" in text["text"] and "1,500 items written" in text["text"] and "750 items/s" in text["text"]


def test_the_loaders_progress_shows_units_against_the_ceiling_throttles_and_time_left() -> None:
    load = request(plan=load_plan())
    update = RestoreProgress(
        items=90_000,
        rate_per_second=4_900.0,
        units_per_second=4_950.0,
        ceiling_units=5_000,
        throttles=3,
        elapsed_seconds=18.0,
        eta_seconds=120.0,
    )

    text = rb.progress_note(load, update)["text"]

    assert "4,900 items/s" in text and "4,950 write units/s of 5,000 allowed" in text
    assert "3 throttled" in text and "about 2m 00s left" in text


def test_export_choices_offer_restore_buttons_for_completed_exports_only() -> None:
    def job(export_id: str, status: str) -> ExportJob:
        return ExportJob(
            export_arn=f"arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/{export_id}",
            export_id=export_id,
            table_key="orders",
            table_name="orders",
            table_arn="arn:aws:dynamodb:us-east-1:123456789012:table/orders",
            region="us-east-1",
            status=status,
            export_type="FULL_EXPORT",
            export_format="DYNAMODB_JSON",
            bucket="acme",
            s3_prefix="p",
            requested_by="U0ALICE",
        )

    message = fb.export_choices("Exports of orders", [job("a-1", "COMPLETED"), job("b-2", "IN_PROGRESS")])
    accessories = [b["accessory"] for b in message["blocks"] if "accessory" in b]
    assert [a["value"] for a in accessories] == ["arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/a-1"]
    assert accessories[0]["action_id"] == fb.OPEN_FORM_ACTION


def test_restore_form_of_a_table_as_of_a_time_says_so_and_carries_it() -> None:
    source = fb.chain_source("orders", datetime(2026, 3, 1, 12, tzinfo=UTC))
    view = fb.restore_form(source, "C0OPS")
    assert json.loads(view["private_metadata"])["source"] == "orders at=2026-03-01T12:00:00Z"
    assert "`orders` as of `2026-03-01T12:00:00Z`" in view["blocks"][0]["text"]["text"]


def test_restore_form_carries_the_export_and_channel() -> None:
    view = fb.restore_form("arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/a-1", "C0OPS")
    assert view["callback_id"] == fb.FORM_CALLBACK
    assert json.loads(view["private_metadata"]) == {
        "source": "arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/a-1",
        "channel": "C0OPS",
    }
    assert "Export `a-1`." in view["blocks"][0]["text"]["text"]
    assert [b.get("block_id") for b in view["blocks"][1:]] == [
        fb.FORM_TARGET,
        fb.FORM_MODE,
        fb.FORM_KEY,
        fb.FORM_BILLING,
    ]


def _must_see(message: dict) -> str:
    return next(str(b["text"]["text"]) for b in message["blocks"] if "*Target:*" in b.get("text", {}).get("text", ""))


def test_an_s3_url_source_shows_its_bucket_and_owner_where_approvers_must_look() -> None:
    foreign = SourceSummary(
        "s3://partner<b>/p/AWSDynamoDB/0123-ab/",
        table="orders",
        export_id="0123-ab",
        bucket="partner-backups",
        owner="210987654321",
    )
    configured = replace(foreign, bucket="acme-ddb-backups", owner=None)
    the_request = request(sources=(foreign, configured, foreign))
    for message in (rb.approval_request(the_request), rb.approval_settled(the_request, [])):
        must_see = _must_see(message)
        assert must_see.count("*Read from bucket:*") == 2
        assert "`partner-backups`, owned by account `210987654321`" in must_see
        assert "`acme-ddb-backups`, a configured export bucket; no owner configured" in must_see
        assert "come from that bucket's own manifest-summary.json" in must_see
    assert "Read from bucket" not in json.dumps(rb.approval_request(request()))


def test_what_could_not_be_checked_is_shown_before_the_figures() -> None:
    reasons = ("manifest-files.json has no checksum file: its list of data files is not verified",)
    one = request(sources=(SourceSummary("arn", export_id="0123-ab", unverified=reasons),))
    message = rb.approval_request(one)
    assert message["blocks"][2]["text"]["text"] == f":warning: *Not verified:*\n• {reasons[0]}"
    two = request(sources=(*one.sources, SourceSummary("arn2", export_id="4567-cd", unverified=("<x>",))))
    text = rb.approval_settled(two, [])["blocks"][3]["text"]["text"]
    assert f"• Export 0123-ab: {reasons[0]}" in text and "• Export 4567-cd: &lt;x&gt;" in text
    assert "Not verified" not in json.dumps(rb.approval_request(request()))


def test_source_summaries_keep_bucket_owner_and_reasons_in_the_store() -> None:
    summary = SourceSummary("s3://b/AWSDynamoDB/x/", bucket="b", owner="210987654321", unverified=("r",))
    assert SourceSummary.from_dict(json.loads(json.dumps(summary.as_dict()))) == summary
    assert "bucket" not in SourceSummary("arn").as_dict()


def test_the_finished_report_counts_files_written_unchecked_when_the_loader_reports_them() -> None:
    load = request(plan=load_plan(), status=RestoreStatus.SUCCEEDED)
    outcome = RestoreOutcome(items_written=10, files=16, details={"unverified_files": 3})
    assert "*3 data files* had no MD5 in the manifest and were written unchecked" in json.dumps(
        rb.finished_note(load, outcome)
    )
    checked = json.dumps(rb.finished_note(load, replace(outcome, details={"unverified_files": 0})))
    assert "every data file matched its MD5" in checked
    silent = json.dumps(rb.finished_note(load, replace(outcome, details={})))
    assert "MD5" not in silent
