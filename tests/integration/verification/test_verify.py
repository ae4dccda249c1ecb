"""`/ddb-verify` through the running bot: an export the bot saw complete is verified against its files, its own
manifests and the bot's record of it; each kind of damage is named with its file; the result is kept and shown by
/ddb-status; a verification a stopped runner left behind is started over and reported."""

from __future__ import annotations

import base64
import gzip
import hashlib
from typing import Any

import orjson
import pytest

from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.exports.reference import ReferenceStore
from bot.models import ExportJob, ExportLocation, ExportType
from bot.verification.models import ExportTarget, Verification, VerificationStatus
from bot.verification.store import VERIFICATION, VerificationStore
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import SIGNING_SECRET, BotFactory
from tests.support.aws_world import exports_held
from tests.support.crashes import abandon
from tests.support.export_fixtures import sample_items, write_full_export
from tests.support.restore_flow import wait_until
from tests.support.slack_requests import SignedSlackClient

OPS = "C0OPS"
OPERATOR, OUTSIDER = "U0ALICE", "U0MALLORY"
BUCKET = "acme-ddb-backups"
ITEMS = 40


@pytest.fixture
def verify_bot(start_bot: BotFactory) -> BotRuntime:
    return start_bot(operators=[OPERATOR])


@pytest.fixture
def signed(verify_bot: BotRuntime) -> SignedSlackClient:
    return SignedSlackClient(f"{verify_bot.url}/slack/events", SIGNING_SECRET)


def completed_export(bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any) -> ExportJob:
    """/ddb-export orders; while moto holds it running, its folder gets a real export's layout; then the bot sees
    it complete and records its reference."""
    with exports_held() as release:
        response = signed.command("/ddb-export", "orders", response_url=slack.response_url(OPS))
        assert response.status == 200, response.body
        job = wait_until(lambda: next(iter(bot.services.core.store.recent_exports("orders")), None), "export started")
        write_full_export(
            s3, job.bucket, job.s3_prefix, sample_items(ITEMS, seed=3), export_id=job.export_id, table_name="orders"
        )
        release.set()
    references = ReferenceStore(bot.services.engine)
    wait_until(lambda: references.get(job.export_arn), "the export's reference recorded")
    return job


def verify(signed: SignedSlackClient, slack: SlackStandIn, text: str, user: str = OPERATOR) -> None:
    response = signed.command("/ddb-verify", text, user_id=user, response_url=slack.response_url(OPS, user=user))
    assert response.status == 200, response.body


def result_of(slack: SlackStandIn, export_id: str) -> PostedMessage:
    """The result posted in the verification's thread."""
    return slack.wait_for(
        lambda m: m.channel == OPS and m.thread_ts is not None and export_id in m.text and "verif" in m.text,
        timeout=60,
    )


def text_of(message: PostedMessage) -> str:
    return "\n".join(str(b.get("text", {}).get("text", "")) or str(b.get("elements", "")) for b in message.blocks)


# ----------------------------------------------------------------------------------------------- tampering


def manifest_entries(s3: Any, location: ExportLocation) -> list[dict[str, Any]]:
    body = s3.get_object(Bucket=location.bucket, Key=location.folder + "manifest-files.json")["Body"].read()
    return [orjson.loads(line) for line in body.splitlines() if line.strip()]


def b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def rewrite_manifest(s3: Any, location: ExportLocation, entries: list[dict[str, Any]]) -> None:
    """Write manifest-files.json and recompute its .md5, as an attacker (or a buggy job) would."""
    body = b"".join(orjson.dumps(e) + b"\n" for e in entries)
    s3.put_object(Bucket=location.bucket, Key=location.folder + "manifest-files.json", Body=body)
    s3.put_object(Bucket=location.bucket, Key=location.folder + "manifest-files.md5", Body=b64md5(body).encode())


def biggest_file(s3: Any, location: ExportLocation) -> dict[str, Any]:
    return max(manifest_entries(s3, location), key=lambda e: e["itemCount"])


def data_of(s3: Any, location: ExportLocation, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=location.bucket, Key=key)["Body"].read())


# ----------------------------------------------------------------------------------------------- tests


def test_a_good_export_passes_and_status_shows_the_verification(
    verify_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any
) -> None:
    job = completed_export(verify_bot, signed, slack, s3)
    verify(signed, slack, job.export_id)
    result = result_of(slack, job.export_id)
    assert "verified OK" in result.text
    assert f"4 files · {ITEMS:,} items" in text_of(result)
    assert "Compared with the bot's record of the export" in text_of(result)
    stored = VerificationStore(verify_bot.services.engine).last_for_export(job.export_id)
    assert stored is not None and stored.status == VerificationStatus.PASSED and stored.items == ITEMS

    signed.command("/ddb-status", job.export_id, response_url=slack.response_url("status"))
    status = slack.wait_for(lambda m: m.channel == "status" and "Last verification" in str(m.blocks))
    assert f"`{stored.id}`: *OK*" in str(status.blocks)


def test_a_changed_byte_is_named_with_its_file(
    verify_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any
) -> None:
    job = completed_export(verify_bot, signed, slack, s3)
    key = biggest_file(s3, job.location)["dataFileS3Key"]
    data = bytearray(data_of(s3, job.location, key))
    data[len(data) // 2] ^= 0x01
    s3.put_object(Bucket=BUCKET, Key=key, Body=bytes(data))
    verify(signed, slack, job.export_id)
    result = result_of(slack, job.export_id)
    assert "failed verification" in result.text
    assert key.rsplit("/", 1)[-1] in text_of(result)
    assert "manifest-files.json says" in text_of(result)


def test_a_truncated_gzip_is_caught_even_with_its_checksums_recomputed(
    verify_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any
) -> None:
    job = completed_export(verify_bot, signed, slack, s3)
    entries = manifest_entries(s3, job.location)
    entry = max(entries, key=lambda e: e["itemCount"])
    cut = data_of(s3, job.location, entry["dataFileS3Key"])[:-30]
    s3.put_object(Bucket=BUCKET, Key=entry["dataFileS3Key"], Body=cut)
    entry["md5Checksum"] = b64md5(cut)
    rewrite_manifest(s3, job.location, entries)
    verify(signed, slack, job.export_id)
    shown = text_of(result_of(slack, job.export_id))
    assert entry["dataFileS3Key"].rsplit("/", 1)[-1] in shown
    assert "it ends before the gzip stream does" in shown


def test_a_wrong_item_count_is_named_with_its_file(
    verify_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any
) -> None:
    job = completed_export(verify_bot, signed, slack, s3)
    entries = manifest_entries(s3, job.location)
    entry = max(entries, key=lambda e: e["itemCount"])
    entry["itemCount"] += 1
    rewrite_manifest(s3, job.location, entries)
    verify(signed, slack, job.export_id)
    shown = text_of(result_of(slack, job.export_id))
    assert f"holds {entry['itemCount'] - 1} items, manifest-files.json says {entry['itemCount']}" in shown
    assert "manifest-files.json`: differs from what the bot recorded" in shown


def test_a_missing_data_file_is_named(
    verify_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any
) -> None:
    job = completed_export(verify_bot, signed, slack, s3)
    key = biggest_file(s3, job.location)["dataFileS3Key"]
    s3.delete_object(Bucket=BUCKET, Key=key)
    verify(signed, slack, job.export_id)
    shown = text_of(result_of(slack, job.export_id))
    assert key.rsplit("/", 1)[-1] in shown and "is missing" in shown


def test_a_file_rewritten_with_recomputed_checksums_is_caught_by_the_bots_record(
    verify_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any
) -> None:
    job = completed_export(verify_bot, signed, slack, s3)
    entries = manifest_entries(s3, job.location)
    entry = max(entries, key=lambda e: e["itemCount"])
    forged = [{"Item": item} for item in sample_items(entry["itemCount"], seed=99)]  # as many items, other values
    body = gzip.compress(b"".join(orjson.dumps(line) + b"\n" for line in forged))
    s3.put_object(Bucket=BUCKET, Key=entry["dataFileS3Key"], Body=body)
    entry["md5Checksum"] = b64md5(body)
    rewrite_manifest(s3, job.location, entries)
    verify(signed, slack, job.export_id)
    shown = text_of(result_of(slack, job.export_id))
    assert entry["dataFileS3Key"].rsplit("/", 1)[-1] in shown
    assert "when the export completed: the file was rewritten" in shown


def test_an_export_the_bot_did_not_see_is_verified_against_its_own_manifests_and_says_so(
    verify_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any
) -> None:
    location = write_full_export(s3, BUCKET, "elsewhere/orders", sample_items(25, seed=4), table_name="orders")
    verify(signed, slack, f"s3://{BUCKET}/{location.folder}")
    result = result_of(slack, location.export_id)
    assert "verified OK" in result.text
    assert "verified against its own manifests only" in text_of(result)


def test_only_operators_may_verify(
    verify_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any
) -> None:
    location = write_full_export(s3, BUCKET, "elsewhere/orders", sample_items(5, seed=4), table_name="orders")
    verify(signed, slack, f"s3://{BUCKET}/{location.folder}", user=OUTSIDER)
    refusal = slack.wait_for(lambda m: m.channel == OPS and "Only operators may verify exports" in m.text)
    assert refusal.user == OUTSIDER
    assert VerificationStore(verify_bot.services.engine).last_for_export(location.export_id) is None


def test_a_verification_left_running_by_a_dead_replica_is_started_over_and_reported(
    start_bot: BotFactory, slack: SlackStandIn, s3: Any
) -> None:
    location = write_full_export(s3, BUCKET, "elsewhere/orders", sample_items(30, seed=6), table_name="orders")
    bot = start_bot(operators=[OPERATOR], poll_seconds=0.3)
    store = VerificationStore(bot.services.engine)
    target = ExportTarget(
        location.export_id, None, BUCKET, location.prefix, None, ExportType.FULL, None, "us-east-1", "left over"
    )
    store.create(Verification("v-deadbeef", target, OPERATOR, OPS))
    abandon(bot.services.engine, VERIFICATION, "v-deadbeef")  # a replica claimed it, then died: its heartbeat is old
    with bot.services.engine.begin() as connection:  # it had started the verification
        store.start("v-deadbeef", connection)
    result = result_of(slack, location.export_id)
    assert "verified OK" in result.text
    assert "Started over after an interruption (attempt 2)" in text_of(result)
    done = store.get("v-deadbeef")
    assert done is not None and done.status == VerificationStatus.PASSED and done.attempts == 2 and done.items == 30


def test_two_replicas_sharing_a_database_run_a_verification_once(
    start_bot: BotFactory, slack: SlackStandIn, s3: Any
) -> None:
    location = write_full_export(s3, BUCKET, "elsewhere/orders", sample_items(30, seed=8), table_name="orders")
    first, second = start_bot(operators=[OPERATOR]), start_bot(operators=[OPERATOR])
    signed = SignedSlackClient(f"{first.url}/slack/events", SIGNING_SECRET)
    verify(signed, slack, f"s3://{BUCKET}/{location.folder}")
    result_of(slack, location.export_id)
    store = VerificationStore(second.services.engine)
    done = wait_until(lambda: store.last_for_export(location.export_id), "verification stored")
    assert done.status == VerificationStatus.PASSED and done.attempts == 1
    results = [m for m in slack.messages(OPS) if m.thread_ts is not None and "verified OK" in m.text]
    assert len(results) == 1
