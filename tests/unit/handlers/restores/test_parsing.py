"""/ddb-restore text → typed requests; every error carries the usage."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import UsageError
from handlers.kit.parsing import HelpRequest
from handlers.restores.parsing import RESTORE_HELP, RestoreCommand, RestoreListing, parse_restore

EXPORT_ID = "01768385930622-efd1a093"
ARN = f"arn:aws:dynamodb:eu-north-1:123456789123:table/test/export/{EXPORT_ID}"
MOTO_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/arn:aws:dynamodb:us-east-1:123456789012:table/t/import/ab12"
URL = f"s3://acme-backups/orders/AWSDynamoDB/{EXPORT_ID}/"


def command(text: str) -> RestoreCommand:
    parsed = parse_restore(text, {"prod"})
    assert isinstance(parsed, RestoreCommand)
    return parsed


def test_import_into_a_new_table() -> None:
    spec = command(f"{EXPORT_ID} to=orders-restored key=pk:S,sk:n billing=provisioned").spec
    assert (spec.mode, spec.sources, spec.target) == ("import", (EXPORT_ID,), "orders-restored")
    assert spec.key == (("pk", "S"), ("sk", "N"))
    assert spec.billing == "provisioned"


@pytest.mark.parametrize("source", [EXPORT_ID, ARN, MOTO_ARN, URL])
def test_every_form_of_export_is_accepted(source: str) -> None:
    assert command(f"{source} to=prod:orders-copy").spec.sources == (source,)


def test_several_exports_into_an_existing_table() -> None:
    spec = command(f"{URL} {EXPORT_ID} into=orders").spec
    assert (spec.mode, spec.sources, spec.target) == ("load", (URL, EXPORT_ID), "orders")


def test_owner_names_who_owns_an_s3_url_s_bucket_for_either_restore() -> None:
    assert command(f"{URL} to=orders-copy owner=210987654321").spec.owner == "210987654321"
    assert command(f"{URL} {EXPORT_ID} into=orders owner=210987654321").spec.owner == "210987654321"
    assert command(f"{URL} into=orders").spec.owner is None
    assert "owner=<12-digit account>" in RESTORE_HELP.usage_text


def test_pitr_restore() -> None:
    spec = command("pitr orders to=orders-before at=2026-01-14T10:18:50Z").spec
    assert (spec.mode, spec.sources, spec.target) == ("pitr", ("orders",), "orders-before")
    assert spec.at == datetime(2026, 1, 14, 10, 18, 50, tzinfo=UTC)
    assert command("pitr orders to=orders-now at=latest").spec.at is None
    assert command("pitr orders to=orders-now").spec.at is None


def test_listings_and_help() -> None:
    assert parse_restore("") == RestoreListing(None)
    assert parse_restore("orders") == RestoreListing("orders")
    assert parse_restore("help") == HelpRequest(RESTORE_HELP)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{EXPORT_ID}", "Say where to restore"),
        (f"{EXPORT_ID} to=a-table into=b-table", "not both"),
        (f"{EXPORT_ID} {EXPORT_ID} to=new-table", "use `into=`"),
        (f"{EXPORT_ID} into=t-table key=pk:S", "only goes with `to=`"),
        (f"{EXPORT_ID} into=t-table billing=provisioned", "only goes with `to=`"),
        (f"{EXPORT_ID} to=new-table at=latest", "goes with `pitr`"),
        (f"{EXPORT_ID} to=new-table key=pk", "partition key"),
        (f"{EXPORT_ID} to=new-table key=pk:X", "partition key"),
        (f"{EXPORT_ID} to=new-table key=a:S,b:S,c:S", "partition key"),
        (f"{EXPORT_ID} to=new-table key=a:S,a:N", "partition key"),
        (f"{EXPORT_ID} to=new-table billing=free", "billing=on-demand"),
        (f"{EXPORT_ID} to=x", "not a valid DynamoDB table name"),
        (f"{EXPORT_ID} to=other:orders", "Unknown account alias"),
        (f"{EXPORT_ID} to=a-table to=b-table", "given twice"),
        (f"{EXPORT_ID} to=a-table size=big", "Unknown option"),
        ("arn:aws:s3:::bucket to=a-table", "not an export ARN"),
        ("s3://bucket/no-export-here to=a-table", "AWSDynamoDB"),
        ("no/such/thing! to=a-table", "not an export id"),
        ("pitr orders", "Name the new table"),
        ("pitr orders customers to=x-table", "restores one table"),
        ("pitr orders to=new-table into=x-table", "does not go with `pitr`"),
        ("pitr orders to=new-table at=yesterday", "relative to now, like `at=-90m`"),
        ("pitr orders to=new-table owner=210987654321", "does not go with `pitr`"),
        (f"{URL} into=t-table owner=21098765432", "12-digit id of the AWS account"),
        (f"{URL} into=t-table owner=acme", "12-digit id of the AWS account"),
        (f"{URL} into=t-table owner=٢١٠٩٨٧٦٥٤٣٢١", "12-digit id of the AWS account"),  # not ASCII digits
        (f"{EXPORT_ID} into=t-table owner=210987654321", "goes with an s3:// export"),
        ("to=new-table", "Name the export"),
        ('"unbalanced', "check the quotes"),
    ],
)
def test_errors_say_what_was_expected(text: str, expected: str) -> None:
    with pytest.raises(UsageError, match=expected.replace("`", ".").replace("(", ".").replace(")", ".")) as caught:
        parse_restore(text, {"prod"})
    assert caught.value.usage == RESTORE_HELP.usage_text
