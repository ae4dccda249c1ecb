"""What a backup bucket keeps under a prefix: its lifecycle rules, versioning and Object Lock, read from S3.

The rules are read, never written: the bot proposes lifecycle rules for the owners to apply with their own tooling.
A rule reaches the prefix when its filter's prefix is a prefix of ours (every object under ours); a rule with a
narrower prefix, a tag or a size filter reaches only some objects, so it is named in `notes` and not counted in
the days (S3 applies the shortest expiration among the rules that match an object).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code, translate

logger = logging.getLogger(__name__)

NO_LIFECYCLE = "NoSuchLifecycleConfiguration"
NO_OBJECT_LOCK = "ObjectLockConfigurationNotFoundError"
DAYS_IN_YEAR = 365


@dataclass(frozen=True)
class KeepingRule:
    """One enabled lifecycle rule that reaches (part of) the prefix, as S3 holds it."""

    rule_id: str
    prefix: str
    expiration_days: int | None
    expiration_date: date | None
    noncurrent_days: int | None
    whole_prefix: bool  # False: only tagged objects, a narrower prefix or a size range
    reach: str  # in words: "every object under exports/" or "objects tagged tier=cold only"


@dataclass(frozen=True)
class BucketKeeping:
    """What S3 will keep and delete under one prefix of one bucket."""

    bucket: str
    prefix: str
    expiration_days: int | None  # lifecycle Expiration (current versions) of the enabled rule(s); shortest wins
    noncurrent_expiration_days: int | None  # NoncurrentVersionExpiration.NoncurrentDays
    versioning: str  # "Enabled" | "Suspended" | "Off"
    object_lock_mode: str | None  # "GOVERNANCE" | "COMPLIANCE" | None (default retention of the bucket)
    object_lock_days: int | None  # default retention in days (Years converted x365)
    problem: str | None = None  # set when the bucket could not be read (AccessDenied...), in words for a user
    expiration_date: date | None = None  # Expiration by Date of a rule reaching every object under the prefix
    rules: tuple[KeepingRule, ...] = ()  # every enabled rule reaching the prefix, whole or in part
    notes: tuple[str, ...] = ()  # rules reaching only part of the prefix (tags, narrower prefix), in words

    @property
    def lifecycle_rules(self) -> tuple[KeepingRule, ...]:
        """The rules that reach every object under the prefix (those the days above come from)."""
        return tuple(rule for rule in self.rules if rule.whole_prefix)


def read_bucket_keeping(s3: Any, bucket: str, prefix: str, *, owner: str | None = None) -> BucketKeeping:
    """Read the lifecycle, versioning and Object Lock of `bucket` as they apply to `prefix`; a refusal is kept in
    `problem` (in words), never raised, so one unreadable bucket does not hide the others. `owner`: the account
    the bucket must belong to (S3 refuses the read otherwise), as the bot's other reads of backup buckets check."""
    where: dict[str, Any] = {"Bucket": bucket, **({"ExpectedBucketOwner": owner} if owner else {})}
    try:
        rules = _matching_rules(_lifecycle_rules(s3, where), prefix)
        versioning = _versioning(s3, where)
        lock_mode, lock_days = _object_lock(s3, where)
    except (ClientError, BotoCoreError) as exc:
        logger.warning("retention.bucket_unreadable", extra={"bucket": bucket, "code": _code(exc)})
        return BucketKeeping(bucket, prefix, None, None, "Off", None, None, problem=_problem(exc, bucket))
    whole = [rule for rule in rules if rule.whole_prefix]
    return BucketKeeping(
        bucket=bucket,
        prefix=prefix,
        expiration_days=_shortest(rule.expiration_days for rule in whole),
        noncurrent_expiration_days=_shortest(rule.noncurrent_days for rule in whole),
        versioning=versioning,
        object_lock_mode=lock_mode,
        object_lock_days=lock_days,
        expiration_date=min((rule.expiration_date for rule in whole if rule.expiration_date), default=None),
        rules=tuple(rules),
        notes=tuple(f"Rule {rule.rule_id} reaches {rule.reach}." for rule in rules if not rule.whole_prefix),
    )


def _lifecycle_rules(s3: Any, where: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        response = s3.get_bucket_lifecycle_configuration(**where)
    except ClientError as exc:
        if error_code(exc) == NO_LIFECYCLE:
            return []
        raise _Refused(exc, "s3:GetLifecycleConfiguration") from exc
    return list(response.get("Rules", []))


def _versioning(s3: Any, where: dict[str, Any]) -> str:
    try:
        response = s3.get_bucket_versioning(**where)
    except ClientError as exc:
        raise _Refused(exc, "s3:GetBucketVersioning") from exc
    return str(response.get("Status") or "Off")


def _object_lock(s3: Any, where: dict[str, Any]) -> tuple[str | None, int | None]:
    try:
        response = s3.get_object_lock_configuration(**where)
    except ClientError as exc:
        if error_code(exc) == NO_OBJECT_LOCK:
            return None, None
        raise _Refused(exc, "s3:GetBucketObjectLockConfiguration") from exc
    retention = response.get("ObjectLockConfiguration", {}).get("Rule", {}).get("DefaultRetention", {})
    if not retention:
        return None, None
    days = retention.get("Days") or None  # S3 sends the one set; moto also sends the other as 0
    if days is None and retention.get("Years"):
        days = int(retention["Years"]) * DAYS_IN_YEAR
    return retention.get("Mode"), int(days) if days is not None else None


class _Refused(ClientError):
    """A ClientError that remembers which IAM action was refused, for the message."""

    def __init__(self, exc: ClientError, action: str) -> None:
        super().__init__(exc.response, exc.operation_name)
        self.action = action


def _code(exc: Exception) -> str:
    return error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__


def _problem(exc: Exception, bucket: str) -> str:
    action = exc.action if isinstance(exc, _Refused) else "s3:GetBucket*"
    return str(translate(exc, action, f"bucket {bucket}"))


def _matching_rules(rules: list[dict[str, Any]], prefix: str) -> list[KeepingRule]:
    matching: list[KeepingRule] = []
    for rule in rules:
        if rule.get("Status") != "Enabled":
            continue
        rule_prefix, tags, sized = _filter_of(rule)
        reaches_all = prefix.startswith(rule_prefix)
        if not reaches_all and not rule_prefix.startswith(prefix):
            continue
        whole = reaches_all and not tags and not sized
        matching.append(_keeping_rule(rule, rule_prefix, tags, sized, whole, prefix))
    return matching


def _filter_of(rule: dict[str, Any]) -> tuple[str, list[dict[str, str]], bool]:
    """The prefix, tags and whether a size bound applies, from Filter (Prefix, Tag, And, ObjectSize*) or the
    legacy top-level Prefix."""
    flt = rule.get("Filter")
    if flt is None:
        return str(rule.get("Prefix", "")), [], False
    sized = "ObjectSizeGreaterThan" in flt or "ObjectSizeLessThan" in flt
    if "And" in flt:
        both = flt["And"]
        sized = sized or "ObjectSizeGreaterThan" in both or "ObjectSizeLessThan" in both
        return str(both.get("Prefix", "")), list(both.get("Tags", [])), sized
    tags = [flt["Tag"]] if "Tag" in flt else []
    return str(flt.get("Prefix", "")), tags, sized


def _keeping_rule(
    rule: dict[str, Any], rule_prefix: str, tags: list[dict[str, str]], sized: bool, whole: bool, prefix: str
) -> KeepingRule:
    expiration = rule.get("Expiration", {})
    noncurrent = rule.get("NoncurrentVersionExpiration", {})
    return KeepingRule(
        rule_id=str(rule.get("ID") or "(no id)"),
        prefix=rule_prefix,
        expiration_days=_int_or_none(expiration.get("Days")),
        expiration_date=_date_or_none(expiration.get("Date")),
        noncurrent_days=_int_or_none(noncurrent.get("NoncurrentDays")),
        whole_prefix=whole,
        reach=_reach(rule_prefix, tags, sized, prefix),
    )


def _reach(rule_prefix: str, tags: list[dict[str, str]], sized: bool, prefix: str) -> str:
    where = f"objects under {rule_prefix or '(the whole bucket)'}"
    if rule_prefix.startswith(prefix) and rule_prefix != prefix:
        where = f"only objects under the narrower prefix {rule_prefix}"
    if tags:
        named = ", ".join(f"{tag.get('Key', '')}={tag.get('Value', '')}" for tag in tags)
        where += f", only objects tagged {named}"
    if sized:
        where += ", only objects within a size range"
    return where


def _shortest(values: Any) -> int | None:
    present = [value for value in values if value is not None]
    return min(present) if present else None


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None else None


def _date_or_none(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
