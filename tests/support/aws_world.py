"""Test-only AWS helpers on top of the demo's world: other accounts, moving PITR windows, listing keys."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from bot.demo.world import REGION, build_world, client, create_table, order_items, reset_moto, start_moto

DEFAULT_ACCOUNT = "123456789012"
BACKUP_ACCOUNT = "222222222222"
__all__ = ["REGION", "build_world", "client", "create_table", "order_items", "reset_moto", "start_moto"]


def account_credentials(endpoint: str, account_id: str) -> dict[str, str]:
    """Credentials of another account, from moto's STS AssumeRole (moto maps them to that account)."""
    sts = client("sts", endpoint)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/backup-writer", RoleSessionName="tests")[
        "Credentials"
    ]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def set_pitr_window(account_id: str, table: str, earliest: datetime, latest: datetime) -> None:
    """Move a table's PITR window (moto freezes it at the moment PITR was enabled; AWS slides it)."""
    from moto.dynamodb.models import dynamodb_backends

    description = (
        dynamodb_backends[account_id][REGION].tables[table].continuous_backups["PointInTimeRecoveryDescription"]
    )
    description["EarliestRestorableDateTime"] = earliest.timestamp()
    description["LatestRestorableDateTime"] = latest.timestamp()


def s3_keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    """Every key under a prefix."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


@contextmanager
def exports_held() -> Iterator[threading.Event]:
    """Keep moto's exports IN_PROGRESS until the test sets the event (moto finishes them in milliseconds)."""
    from moto.dynamodb.models.table_export import TableExport

    release = threading.Event()
    original = TableExport.run

    def held_run(self: Any) -> None:
        release.wait(60)
        original(self)

    TableExport.run = held_run  # type: ignore[method-assign]
    try:
        yield release
    finally:
        release.set()
        TableExport.run = original  # type: ignore[method-assign]
