"""What a bucket keeps under a prefix, read from moto's S3 server over HTTP: each lifecycle rule shape, versioning,
Object Lock, and a refused read told in words."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from bot.retention.buckets import read_bucket_keeping
from tests.support.aws_world import client
from tests.support.s3_owners import S3OwnerFront

BUCKET = "acme-ddb-backups"
PREFIX = "exports/orders/"


def lifecycle(s3: Any, *rules: dict[str, Any], bucket: str = BUCKET) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": list(rules)})


def test_a_bucket_without_lifecycle_versioning_or_lock_keeps_everything(s3: Any) -> None:
    keeping = read_bucket_keeping(s3, BUCKET, PREFIX)
    assert keeping.problem is None
    assert keeping.expiration_days is None and keeping.noncurrent_expiration_days is None
    assert keeping.versioning == "Off" and keeping.object_lock_mode is None and keeping.object_lock_days is None
    assert keeping.rules == () and keeping.notes == ()


def test_a_prefix_rule_covering_the_prefix_gives_its_days_and_the_shortest_of_two_wins(s3: Any) -> None:
    lifecycle(
        s3,
        {"ID": "all", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 90}},
        {
            "ID": "exports",
            "Status": "Enabled",
            "Filter": {"Prefix": "exports/"},
            "Expiration": {"Days": 30},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
        },
        {"ID": "other", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 1}},
    )
    keeping = read_bucket_keeping(s3, BUCKET, PREFIX)
    assert keeping.expiration_days == 30 and keeping.noncurrent_expiration_days == 7
    assert [rule.rule_id for rule in keeping.lifecycle_rules] == ["all", "exports"], "logs/ does not reach the prefix"


def test_a_disabled_rule_deletes_nothing(s3: Any) -> None:
    lifecycle(s3, {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}})
    keeping = read_bucket_keeping(s3, BUCKET, PREFIX)
    assert keeping.expiration_days is None and keeping.rules == ()


def test_a_tag_filtered_rule_is_named_as_reaching_tagged_objects_only(s3: Any) -> None:
    lifecycle(
        s3,
        {
            "ID": "cold",
            "Status": "Enabled",
            "Filter": {"Tag": {"Key": "tier", "Value": "cold"}},
            "Expiration": {"Days": 3},
        },
        {
            "ID": "both",
            "Status": "Enabled",
            "Filter": {"And": {"Prefix": "exports/", "Tags": [{"Key": "keep", "Value": "no"}]}},
            "Expiration": {"Days": 2},
        },
    )
    keeping = read_bucket_keeping(s3, BUCKET, PREFIX)
    assert keeping.expiration_days is None, "a tagged rule does not delete every export"
    assert keeping.notes == (
        "Rule cold reaches objects under (the whole bucket), only objects tagged tier=cold.",
        "Rule both reaches objects under exports/, only objects tagged keep=no.",
    )


def test_a_rule_on_a_narrower_prefix_reaches_only_part_of_the_exports(s3: Any) -> None:
    lifecycle(s3, {"ID": "deep", "Status": "Enabled", "Filter": {"Prefix": f"{PREFIX}old/"}, "Expiration": {"Days": 5}})
    keeping = read_bucket_keeping(s3, BUCKET, PREFIX)
    assert keeping.expiration_days is None
    assert keeping.notes == (f"Rule deep reaches only objects under the narrower prefix {PREFIX}old/.",)


def test_an_expiration_by_date_is_read_as_that_date(s3: Any) -> None:
    lifecycle(
        s3,
        {"ID": "until", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Date": "2027-01-01T00:00:00Z"}},
    )
    keeping = read_bucket_keeping(s3, BUCKET, PREFIX)
    assert keeping.expiration_date == date(2027, 1, 1) and keeping.expiration_days is None


def test_versioning_enabled_then_suspended(s3: Any) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    assert read_bucket_keeping(s3, BUCKET, PREFIX).versioning == "Enabled"
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    assert read_bucket_keeping(s3, BUCKET, PREFIX).versioning == "Suspended"


def test_object_lock_default_retention_in_days_and_in_years(s3: Any) -> None:
    s3.create_bucket(Bucket="locked-backups", ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket="locked-backups",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 40}},
        },
    )
    keeping = read_bucket_keeping(s3, "locked-backups", PREFIX)
    assert (keeping.object_lock_mode, keeping.object_lock_days) == ("COMPLIANCE", 40)
    assert keeping.versioning == "Enabled", "S3 turns versioning on with Object Lock"
    s3.put_object_lock_configuration(
        Bucket="locked-backups",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 1}},
        },
    )
    keeping = read_bucket_keeping(s3, "locked-backups", PREFIX)
    assert (keeping.object_lock_mode, keeping.object_lock_days) == ("GOVERNANCE", 365)


def test_object_lock_without_a_default_retention_holds_nothing_by_default(s3: Any) -> None:
    s3.create_bucket(Bucket="lock-no-default", ObjectLockEnabledForBucket=True)
    keeping = read_bucket_keeping(s3, "lock-no-default", PREFIX)
    assert keeping.problem is None and keeping.object_lock_mode is None and keeping.object_lock_days is None


@pytest.fixture
def owner_front(world: str) -> Iterator[S3OwnerFront]:
    front = S3OwnerFront(world, {BUCKET: "999999999999"})
    yield front
    front.close()


def test_a_refused_read_is_a_problem_in_words_naming_the_permission(owner_front: S3OwnerFront) -> None:
    s3 = client("s3", owner_front.url)
    keeping = read_bucket_keeping(s3, BUCKET, PREFIX, owner="123456789012")
    assert keeping.problem is not None
    assert "s3:GetLifecycleConfiguration" in keeping.problem and BUCKET in keeping.problem
    assert "<Error>" not in keeping.problem
    assert keeping.expiration_days is None


def test_a_missing_bucket_is_a_problem_not_an_exception(s3: Any) -> None:
    keeping = read_bucket_keeping(s3, "no-such-backups", PREFIX)
    assert keeping.problem is not None and "no-such-backups" in keeping.problem
