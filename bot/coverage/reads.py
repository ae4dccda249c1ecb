"""A survey's two reads of each table (DescribeTable, DescribeContinuousBackups) over the loader's lean signed HTTP.

Why not botocore alone: it costs about a millisecond of CPU a call (signing, urllib3, its event hooks, parsing), so a
survey of 5,000 tables (10,000 calls) was bound by CPU on 2 cores, not by AWS. The loader's SigV4Signer and
HttpTransport (bot/loader/http.py: the same signature as botocore's, the same endpoint, TLS settings and proxies)
send them for a fraction of that. Only a plain success is read here: any other answer (an error, a throttle, a
dropped connection, a body that is not what DynamoDB sends) returns None, and the survey asks again through botocore,
which retries, translates and words it exactly as every other read of a table does.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any, TypeGuard

from bot.aws.accounts import AwsAccounts, Place
from bot.aws.table_info import PitrWindow, TableInfo, pitr_window_of, table_info_of
from bot.aws.tables import TableRef
from bot.loader.endpoint import DynamoDbEndpoint
from bot.loader.http import HttpTransport, SigV4Signer

DESCRIBE_TABLE = "DynamoDB_20120810.DescribeTable"
DESCRIBE_BACKUPS = "DynamoDB_20120810.DescribeContinuousBackups"
PITR_TIMES = ("EarliestRestorableDateTime", "LatestRestorableDateTime")


class LeanReads:
    """One signer and one keep-alive transport per place, made on first use and kept for later surveys."""

    def __init__(self, aws: AwsAccounts) -> None:
        self.aws = aws
        self._places: dict[Place, tuple[SigV4Signer, HttpTransport]] = {}
        self._lock = threading.Lock()

    def describe(self, ref: TableRef, place: Place) -> tuple[TableInfo, PitrWindow] | None:
        """Both reads of a table, or None when either is anything but a plain success (botocore is asked then)."""
        try:
            table = self._ask(place, DESCRIBE_TABLE, ref.name).get("Table")
            if not _is_table(table, ref.name):
                return None
            backups = self._ask(place, DESCRIBE_BACKUPS, ref.name).get("ContinuousBackupsDescription")
            if not isinstance(backups, dict):
                return None
            return table_info_of(table, ref, place), pitr_window_of(_with_datetimes(backups))
        except Exception:
            return None

    def close(self) -> None:
        """Close the kept-alive connections."""
        with self._lock:
            places, self._places = self._places, {}
        for _, transport in places.values():
            transport.close()

    def _ask(self, place: Place, target: str, table: str) -> dict[str, Any]:
        signer, transport = self._of(place)
        body = json.dumps({"TableName": table}).encode()
        status, answer = transport.post(signer.path, signer.headers(body, target), body)
        if status != 200:
            return {}
        parsed = json.loads(answer)
        return parsed if isinstance(parsed, dict) else {}

    def _of(self, place: Place) -> tuple[SigV4Signer, HttpTransport]:
        with self._lock:
            found = self._places.get(place)
        if found is not None:
            return found
        endpoint = DynamoDbEndpoint.of(self.aws.dynamodb(place), self.aws.session(place).get_credentials())
        made = SigV4Signer(endpoint.credentials, endpoint.region, endpoint.url), HttpTransport(endpoint)
        with self._lock:
            return self._places.setdefault(place, made)


def _is_table(table: Any, name: str) -> TypeGuard[dict[str, Any]]:
    """DescribeTable's `Table` of that table, with what the survey reads from it."""
    return (
        isinstance(table, dict)
        and table.get("TableName") == name
        and isinstance(table.get("TableArn"), str)
        and isinstance(table.get("DeletionProtectionEnabled", False), bool)
    )


def _with_datetimes(description: dict[str, Any]) -> dict[str, Any]:
    """The PITR window's times as botocore gives them (DynamoDB sends seconds since the epoch)."""
    pitr = description.get("PointInTimeRecoveryDescription")
    if not isinstance(pitr, dict):
        return description
    times = {key: datetime.fromtimestamp(float(pitr[key]), tz=UTC) for key in PITR_TIMES if key in pitr}
    return {**description, "PointInTimeRecoveryDescription": {**pitr, **times}}
