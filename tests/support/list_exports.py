"""ListExports as AWS documents it, in front of moto's server: moto requires TableArn (without it, it answers HTTP
500) and never pages. AWS: TableArn is optional (without it, every export of the caller's account and region),
MaxResults is 1..25 (ValidationException otherwise), a NextToken leads to the next page, and the summaries come "in
reverse alphanumeric order of ExportArn".

`extra` holds export summaries moto cannot make (an AWS-formed ExportArn, whose id carries the export's start);
each is listed in the account and region its ARN names, with moto's own exports.
"""

from __future__ import annotations

import re
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoHandler

from bot.demo.aws.front import AwsError, Caller, DynamoDbCall, DynamoDbFront

PAGE_MAX = 25


class ListExportsAsAws:
    """Answers ListExports on `front` from moto's per-table answers and `extra`, paged as AWS pages."""

    def __init__(self, front: DynamoDbFront) -> None:
        self.front = front
        self.extra: list[dict[str, str]] = []  # {"ExportArn", "ExportStatus", "ExportType"}
        front.handle("ListExports", self._list)

    def _list(self, call: DynamoDbCall) -> dict[str, Any]:
        size = call.body.get("MaxResults", PAGE_MAX)
        if not isinstance(size, int) or not 1 <= size <= PAGE_MAX:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy constraint: "
                f"Member must have value less than or equal to {PAGE_MAX}",
            )
        token = str(call.body.get("NextToken") or "page-0")
        if not re.fullmatch(r"page-\d+", token):
            raise AwsError("ValidationException", "Invalid NextToken")
        table_arn = call.body.get("TableArn")
        summaries = self._summaries(call.caller, table_arn if isinstance(table_arn, str) else None)
        summaries.sort(key=lambda s: s["ExportArn"], reverse=True)
        first = int(token.removeprefix("page-"))
        page: dict[str, Any] = {"ExportSummaries": summaries[first : first + size]}
        if first + size < len(summaries):
            page["NextToken"] = f"page-{first + size}"
        return page

    def _summaries(self, caller: Caller, table_arn: str | None) -> list[dict[str, Any]]:
        account = self.front.account_of(caller)
        owner = f"arn:aws:dynamodb:{caller.region}:{account}:table/"
        arns = [table_arn] if table_arn else [owner + name for name in self._table_names(caller)]
        found: list[dict[str, Any]] = [
            summary
            for arn in arns
            for summary in self.front.call_moto(caller, "ListExports", {"TableArn": arn}).get("ExportSummaries", [])
        ]
        prefix = f"{table_arn}/export/" if table_arn else owner
        return found + [dict(s) for s in self.extra if s["ExportArn"].startswith(prefix)]

    def _table_names(self, caller: Caller) -> list[str]:
        names: list[str] = []
        body: dict[str, Any] = {}
        while True:
            page = self.front.call_moto(caller, "ListTables", body)
            names += page.get("TableNames", [])
            if "LastEvaluatedTableName" not in page:
                return names
            body = {"ExclusiveStartTableName": page["LastEvaluatedTableName"]}


def moto_list_exports(handler: DynamoHandler) -> ActionResult:
    """Make the in-process moto server's own ListExports answer as AWS documents it (TableArn optional, MaxResults
    1..25, NextToken, newest ExportArn first), for every test that talks to moto directly; moto answers HTTP 500
    without TableArn. Put in place of DynamoHandler.list_exports for one test (the integration tests' moto_endpoint:
    moto's server runs in the test process), and put back after it."""
    table_arn = handler.body.get("TableArn")
    exports = [e for e in handler.dynamodb_backend.table_exports.values() if table_arn in (None, e.table.table_arn)]
    summaries = sorted(
        ({"ExportArn": e.arn, "ExportStatus": e.status, "ExportType": e.export_type} for e in exports),
        key=lambda s: s["ExportArn"],
        reverse=True,
    )
    first = int(str(handler.body.get("NextToken") or "page-0").removeprefix("page-"))
    size = int(handler.body.get("MaxResults") or PAGE_MAX)
    page: dict[str, Any] = {"ExportSummaries": summaries[first : first + size]}
    if first + size < len(summaries):
        page["NextToken"] = f"page-{first + size}"
    return ActionResult(page)
