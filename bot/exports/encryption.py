"""SSE-KMS for exports: the check, before anything starts, that the KMS key lives in the bucket's region.

S3 refuses to encrypt an object with a KMS key of another region, and DynamoDB reports that only when the export
fails, minutes later. So the bot compares the two regions first: the key's region from its ARN (an alias name is
resolved with kms:DescribeKey in the table's region, where DynamoDB is asked to use it), the bucket's from
s3:GetBucketLocation. How a key is written is one rule in bot/aws/names.py.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from bot.aws.accounts import Place
from bot.aws.errors import error_code, translate
from bot.aws.names import KMS_KEY_ARN, kms_key_problem, kms_region
from bot.core import Core
from bot.errors import PreconditionFailed, UsageError

# GetBucketLocation's LocationConstraint: empty for us-east-1, `EU` for buckets made before regions had names.
LEGACY_LOCATIONS = {"": "us-east-1", "EU": "eu-west-1"}


def check_kms_key(text: str) -> str:
    """Validate `kms=` (a command's or a schedule's), saying how to write it."""
    problem = kms_key_problem(text)
    if problem is not None:
        raise UsageError(problem)
    return text


def check_key_region(core: Core, place: Place, bucket: str, owner: str | None, key: str) -> None:
    """Refuse, before anything starts, a KMS key that is not in the bucket's region."""
    key_region = kms_region(key) or _alias_region(core, place, key)
    bucket_region = _bucket_region(core, place, bucket, owner)
    if key_region != bucket_region:
        raise PreconditionFailed(
            f"The KMS key `{key}` is in {key_region} but bucket `{bucket}` is in {bucket_region}, and S3 encrypts "
            "only with a key of the bucket's own region. Nothing was started.",
            f"Use a KMS key in {bucket_region} (`kms=arn:aws:kms:{bucket_region}:<account>:key/<id>`), "
            "or a bucket in the key's region.",
        )


def _alias_region(core: Core, place: Place, alias: str) -> str:
    """The region of the key an alias name points to, looked up in the table's region."""
    kms: Any = core.aws.client(place, "kms")
    try:
        metadata = kms.describe_key(KeyId=alias)["KeyMetadata"]
    except ClientError as exc:
        if error_code(exc) == "NotFoundException":
            raise PreconditionFailed(
                f"There is no KMS key `{alias}` in {place.region} (the table's region, where an alias is looked "
                "up). Nothing was started.",
                "Check the alias (`aws kms list-aliases`), or give the key's full ARN.",
            ) from exc
        raise translate(exc, "kms:DescribeKey", f"KMS key `{alias}`") from exc
    except Exception as exc:
        raise translate(exc, "kms:DescribeKey", f"KMS key `{alias}`") from exc
    found = KMS_KEY_ARN.match(str(metadata.get("Arn", "")))
    return found["region"] if found else place.region


def _bucket_region(core: Core, place: Place, bucket: str, owner: str | None) -> str:
    request: dict[str, Any] = {"Bucket": bucket, **({"ExpectedBucketOwner": owner} if owner else {})}
    try:
        answer = core.aws.s3(place).get_bucket_location(**request)
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucket":
            raise PreconditionFailed(
                f"Bucket `{bucket}` does not exist. Nothing was started.", "Check `bucket=` (or the table's default)."
            ) from exc
        raise translate(exc, "s3:GetBucketLocation", f"bucket `{bucket}`") from exc
    except Exception as exc:
        raise translate(exc, "s3:GetBucketLocation", f"bucket `{bucket}`") from exc
    constraint = str(answer.get("LocationConstraint") or "")
    return LEGACY_LOCATIONS.get(constraint, constraint)
