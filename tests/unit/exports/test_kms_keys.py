"""`kms=` takes what KMS's KeyId takes and can be checked for its region: a key ARN, an alias ARN or an alias name;
anything else (a bare key id, which names no region; junk; a hostile string) is refused with how to write one."""

from __future__ import annotations

import pytest

from bot.aws.names import kms_key_problem, kms_region
from bot.errors import UsageError
from bot.schedules.service import schedule_options
from handlers.exports.parsing import ExportCommand, parse_export

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MRK_ARN = "arn:aws:kms:us-east-2:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
ALIAS_ARN = "arn:aws-cn:kms:cn-north-1:123456789012:alias/backups/ddb"


@pytest.mark.parametrize(
    ("key", "region"),
    [(KEY_ARN, "eu-west-1"), (MRK_ARN, "us-east-2"), (ALIAS_ARN, "cn-north-1"), ("alias/b_1-x", None)],
)
def test_key_arns_alias_arns_and_alias_names_are_taken_and_arns_name_their_region(key: str, region: str | None) -> None:
    command = parse_export(f"orders kms={key}")
    assert isinstance(command, ExportCommand) and command.options.kms_key == key
    assert schedule_options({"kms": key}).kms_key == key
    assert kms_region(key) == region


@pytest.mark.parametrize(
    "key",
    [
        "1234abcd-12ab-34cd-56ef-1234567890ab",  # a bare key id names no region
        "alias/",
        "alias/has%percent",
        "arn:aws:kms:eu-west-1:1234:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:s3:::bucket",
        "alias/" + "a" * 251,
        "alias/x\u0000",
        "<!channel>",
    ],
)
def test_anything_else_is_refused_saying_how_to_write_a_key(key: str) -> None:
    assert kms_key_problem(key) is not None
    with pytest.raises(UsageError) as raised:
        parse_export(f"orders kms={key}")
    assert "give the key's ARN or its alias" in raised.value.message
    with pytest.raises(UsageError):
        schedule_options({"kms": key})
