"""The lifecycle rule that implements a retention, as S3's JSON and as Terraform, for owners to apply themselves.

Lifecycle rules count days, not exports, so `fulls=` and the chains become days: a full export every `interval`
days keeps `fulls` of them only when they live `fulls × interval` days, and an incremental kept `keep` days needs
its base full export for up to `keep + interval` days. The rule also removes the versions an expiration leaves
behind in a versioned bucket (a day after) and unfinished multipart uploads (S3's own recommendation).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import timedelta
from itertools import pairwise
from math import ceil

from bot.catalog.models import CatalogEntry
from bot.models import ExportType
from bot.retention.models import Proposal, RetentionAsk
from bot.words import plural

RULE_ID_PREFIX = "ddb-backup-bot-retention-"
RULE_ID_MAX = 255  # S3's limit on a lifecycle rule's ID
NONCURRENT_DAYS = 1
ABORT_UPLOADS_DAYS = 7


def full_interval(entries: Iterable[CatalogEntry]) -> timedelta | None:
    """The longest time between two consecutive full exports (None with fewer than two)."""
    times = sorted(e.as_of for e in entries if e.usable and e.export_type == ExportType.FULL and e.as_of)
    gaps = [later - earlier for earlier, later in pairwise(times)]
    return max(gaps, default=None)


def rule_days(ask: RetentionAsk, interval: timedelta | None, incrementals: bool) -> tuple[int, str] | None:
    """The Expiration Days that keep what was asked, and why in words; None when nothing can be derived."""
    reasons: list[tuple[int, str]] = []
    interval_days = ceil(interval / timedelta(days=1)) if interval else None
    if ask.keep_days is not None:
        reasons.append((ask.keep_days, f"exports are kept {plural(ask.keep_days, 'day')}"))
        if incrementals and interval_days:
            needed = ask.keep_days + interval_days
            reasons.append((needed, f"a kept incremental's base full export (made every {interval_days}d) lives on"))
    if ask.fulls is not None and interval_days:
        needed = ask.fulls * interval_days
        reasons.append((needed, f"{plural(ask.fulls, 'full export')} made every {interval_days}d stay"))
    if not reasons:
        return None
    days = max(days for days, _ in reasons)
    return days, "; ".join(reason for _, reason in reasons)


def propose(table: str, bucket: str, prefix: str, days: int, why: str) -> Proposal:
    """The rule for one bucket and prefix."""
    rule_id = (RULE_ID_PREFIX + table)[:RULE_ID_MAX]
    body = {
        "Rules": [
            {
                "ID": rule_id,
                "Status": "Enabled",
                "Filter": {"Prefix": prefix},
                "Expiration": {"Days": days},
                "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_DAYS},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_UPLOADS_DAYS},
            }
        ]
    }
    return Proposal(bucket, prefix, days, json.dumps(body, indent=2), _terraform(rule_id, bucket, prefix, days), why)


def _terraform(rule_id: str, bucket: str, prefix: str, days: int) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", f"ddb_backups_{bucket}")[:64]
    return "\n".join(
        (
            f'resource "aws_s3_bucket_lifecycle_configuration" "{name}" {{',
            f"  bucket = {_hcl(bucket)}",
            "  rule {",
            f"    id     = {_hcl(rule_id)}",
            '    status = "Enabled"',
            f"    filter {{ prefix = {_hcl(prefix)} }}",
            f"    expiration {{ days = {days} }}",
            f"    noncurrent_version_expiration {{ noncurrent_days = {NONCURRENT_DAYS} }}",
            f"    abort_incomplete_multipart_upload {{ days_after_initiation = {ABORT_UPLOADS_DAYS} }}",
            "  }",
            "}",
        )
    )


def _hcl(text: str) -> str:
    """A Terraform string literal: JSON's escapes, and template sequences made literal."""
    return json.dumps(text).replace("${", "$${").replace("%{", "%%{")
