"""Table sizes as a production table would report them, for the demo only: DescribeTable's TableSizeBytes.

moto computes TableSizeBytes from the items it holds, so a demo table of a few dozen items costs "<$0.01" for
everything and no one can see what PITR, an export or a restore of a real table would cost. This handler answers
DescribeTable from moto and replaces TableSizeBytes of the tables it was given with the size chosen for them; every
other field (ItemCount included, which restores and drills compare with what they wrote) stays moto's. It is a
demo choice, not AWS behaviour: the demo's banner says so. The stand-ins read tables through `describe_table`, which
asks moto directly, so they never see these sizes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.demo.aws.front import DynamoDbCall, DynamoDbFront
from bot.demo.aws.tables import table_name_of


class ReportedSizes:
    """Answers DescribeTable with a chosen TableSizeBytes for some tables, per account id and table name."""

    def __init__(self, front: DynamoDbFront, sizes: Mapping[tuple[str, str], int]) -> None:
        self.front = front
        self.sizes = dict(sizes)
        front.handle("DescribeTable", self._describe)

    def _describe(self, call: DynamoDbCall) -> dict[str, Any]:
        answer = self.front.call_moto(call.caller, "DescribeTable", call.body)
        table = answer.get("Table") or {}
        account = str(table.get("TableArn", "")).split(":")[4] if table.get("TableArn") else ""
        chosen = self.sizes.get((account, table_name_of(str(table.get("TableName", "")))))
        if chosen is not None:
            table["TableSizeBytes"] = chosen
        return answer
