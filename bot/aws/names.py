"""How AWS names the things a setting or a command points at: S3 buckets, regions and account ids. One rule each,
used by the settings, the config file and the commands alike.

Regions: a region is accepted when botocore lists DynamoDB in it, or when it has the shape of a region of one of
botocore's partitions (`^(us|eu|ap|…)-\\w+-\\d+$`, `^cn-\\w+-\\d+$`, …). The second half is on purpose: a region AWS
opened after this botocore was released is still written correctly, and refusing it would stop the bot for the
wrong reason; a typo like `mars-1` or `eu-west` matches no partition and is refused.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import botocore.loaders

# S3's rules for general purpose buckets: 3-63 characters, lowercase letters, digits, dots and hyphens, starting and
# ending with a letter or digit, no two adjacent dots, not starting with `xn--`.
BUCKET = re.compile(r"^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
BUCKET_RULE = "use 3–63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit"
BUCKET_EXAMPLE = "acme-ddb-backups"
REGION_EXAMPLE = "eu-west-1"
# ASCII digits only: `\d` also takes other scripts' digits (`١٢٣…`), and `$` a trailing newline, which AWS refuses.
ACCOUNT_ID = re.compile(r"[0-9]{12}")


def is_bucket_name(name: str) -> bool:
    """True when S3 accepts `name` as a bucket name."""
    return BUCKET.match(name) is not None


def bucket_problem(name: str) -> str | None:
    """None for a valid bucket name, else what is wrong and how to write one."""
    if is_bucket_name(name):
        return None
    return f"`{name[:80]}` is not a valid S3 bucket name: {BUCKET_RULE}, e.g. {BUCKET_EXAMPLE}."


def is_account_id(text: str) -> bool:
    """True when `text` is an AWS account id: exactly 12 ASCII digits."""
    return ACCOUNT_ID.fullmatch(text) is not None


def account_id_problem(account_id: str) -> str | None:
    """None for a 12-digit AWS account id, else how to write one."""
    if is_account_id(account_id):
        return None
    return f"`{account_id[:80]}` is not an AWS account id: write its 12 digits, e.g. 123456789012."


def is_region(region: str) -> bool:
    """True when `region` is a DynamoDB region botocore knows, or has the shape of a region of one of its
    partitions (a region newer than this botocore)."""
    return region in _listed_regions() or any(pattern.match(region) for pattern in _partition_patterns())


def region_problem(region: str) -> str | None:
    """None for a usable region, else what is wrong and how to write one."""
    if is_region(region):
        return None
    return (
        f"`{region[:80]}` is not an AWS region where DynamoDB runs; write a region code like {REGION_EXAMPLE} or "
        "us-east-1 (the console shows it beside the region's name)."
    )


# KMS's KeyId forms a `kms=` takes: a key ARN, an alias ARN, or an alias name (`alias/` + up to 250 of [A-Za-z0-9/_-]).
# A bare key id is refused: it names no region, so the bot could not check it against the bucket's.
KMS_KEY_ARN = re.compile(
    r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):key/(?:mrk-)?[0-9a-f-]{32,36}$"
)
KMS_ALIAS_ARN = re.compile(
    r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):alias/[A-Za-z0-9/_-]{1,250}$"
)
KMS_ALIAS_NAME = re.compile(r"^alias/[A-Za-z0-9/_-]{1,250}$")
KMS_EXAMPLE = "kms=arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab or kms=alias/backups"


def kms_key_problem(key: str) -> str | None:
    """None for a KMS key ARN, alias ARN or alias name, else what is wrong and how to write one."""
    if KMS_KEY_ARN.match(key) or KMS_ALIAS_ARN.match(key) or KMS_ALIAS_NAME.match(key):
        return None
    return f"`kms={key[:120]}` is not a KMS key the bot can use: give the key's ARN or its alias, e.g. {KMS_EXAMPLE}."


def kms_region(key: str) -> str | None:
    """The region a key ARN or alias ARN names; None for an alias name (KMS must resolve it)."""
    found = KMS_KEY_ARN.match(key) or KMS_ALIAS_ARN.match(key)
    return found["region"] if found else None


@functools.cache
def _partitions() -> tuple[dict[str, Any], ...]:
    """botocore's endpoint data (read from its package, not from a session: a bad AWS_PROFILE must not break this)."""
    return tuple(botocore.loaders.create_loader().load_data("endpoints")["partitions"])


@functools.cache
def _listed_regions() -> frozenset[str]:
    """The regions each partition lists DynamoDB in (what `Session.get_available_regions("dynamodb")` answers)."""
    return frozenset(
        region
        for partition in _partitions()
        for region in partition["services"]["dynamodb"]["endpoints"]
        if region in partition["regions"]
    )


@functools.cache
def _partition_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(partition["regionRegex"]) for partition in _partitions())
