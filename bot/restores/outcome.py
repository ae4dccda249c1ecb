"""The one outcome check that ends every restore: the items the plan promised against the items done.

A status only says that a run ended. ImportTable ends COMPLETED even when it rejected items (it counts them in
ErrorCount and logs them to CloudWatch), and a loader can read every file and still have written fewer items than
the export held. So every restore path (ImportTable, point-in-time, the loader) and every drill ends here, and a
restore that misses its promise is PARTIAL, with the numbers and where the rejected items are, never "finished".
A count that cannot be known honestly (a point-in-time restore has no manifest) is said to be unknown, never
replaced by a number that merely looks like one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

IMPORT_LOG_GROUP = "/aws-dynamodb/imports"  # where ImportTable logs rejected items unless told otherwise


class Verdict(StrEnum):
    """COMPLETE: every promised item done; PARTIAL: fewer (or other) items, or rejected ones; UNCHECKED: nothing to
    compare with, said plainly."""

    COMPLETE = "complete"
    PARTIAL = "partial"
    UNCHECKED = "unchecked"


@dataclass(frozen=True)
class ItemsPromised:
    """How many items the plan promised, and where that number comes from (or why there is none)."""

    count: int | None
    basis: str


@dataclass(frozen=True)
class ItemsDone:
    """What the run did: items imported (ImportTable), written and deleted (the loader) or counted (None: unknown,
    `basis` says why); items AWS rejected and where they are logged; anything else that fell short."""

    count: int | None
    basis: str
    errors: int = 0
    error_log: str | None = None
    problems: tuple[str, ...] = ()  # e.g. a data file with fewer records than promised, the error that stopped it


@dataclass(frozen=True)
class OutcomeCheck:
    """The verdict, the numbers it rests on, and the reasons in sentences people read (the first one first)."""

    verdict: Verdict
    expected: int | None
    done: int | None
    errors: int = 0
    error_log: str | None = None
    reasons: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        """True when the restore did not deliver what its plan promised."""
        return self.verdict == Verdict.PARTIAL

    @property
    def figures(self) -> str:
        """The numbers in one line: `97 of 100 items · 3 rejected`, `97 items (nothing to compare with)`, or
        `items not counted`."""
        if self.done is None and self.expected is None:
            text = "items not counted"
        elif self.done is None:
            text = f"unknown of {self.expected:,} items"
        elif self.expected is None:
            text = f"{self.done:,} items (nothing to compare with)"
        else:
            text = f"{self.done:,} of {self.expected:,} items"
        if self.errors:
            text += f" · {self.errors:,} rejected"
        return text

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the request's stored result."""
        return {
            "verdict": self.verdict.value,
            "expected": self.expected,
            "done": self.done,
            "errors": self.errors,
            "error_log": self.error_log,
            "reasons": list(self.reasons),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutcomeCheck:
        """Rebuild from a stored result."""
        return cls(
            verdict=Verdict(str(data.get("verdict") or Verdict.UNCHECKED)),
            expected=data.get("expected"),
            done=data.get("done"),
            errors=int(data.get("errors") or 0),
            error_log=data.get("error_log"),
            reasons=tuple(str(reason) for reason in data.get("reasons") or ()),
        )


def check_outcome(promised: ItemsPromised, done: ItemsDone) -> OutcomeCheck:
    """Compare what was done with what was promised. Rejected items and the run's own problems make it PARTIAL
    whatever the counts say; so does any difference between the counts (more items than promised too: the target
    does not hold what was approved). With either count unknown and nothing else wrong, it is UNCHECKED."""
    reasons: list[str] = []
    if done.errors > 0:
        where = f"; DynamoDB logged each one in {done.error_log}" if done.error_log else ""
        reasons.append(f"{done.errors:,} item(s) were rejected and are not in the table{where}")
    reasons.extend(done.problems)
    expected, count = promised.count, done.count
    if expected is not None and count is not None and count != expected:
        if count < expected:
            reasons.append(
                f"{expected - count:,} of the {expected:,} items promised ({promised.basis}) are missing: "
                f"{count:,} {done.basis}"
            )
        else:
            reasons.append(
                f"{count:,} {done.basis}, {count - expected:,} more than the {expected:,} promised ({promised.basis})"
            )
    if reasons:
        verdict = Verdict.PARTIAL
    elif expected is None or count is None:
        verdict = Verdict.UNCHECKED
        unknown = [promised.basis] if expected is None else []
        unknown += [done.basis] if count is None else []
        reasons.append(f"the item count was not compared: {'; and '.join(unknown)}")
    else:
        verdict = Verdict.COMPLETE
    return OutcomeCheck(verdict, expected, count, done.errors, done.error_log, tuple(reasons))


def imported_items(description: Mapping[str, Any]) -> ItemsDone:
    """What DescribeImport says an ImportTable did: ImportedItemCount landed, ErrorCount rejected (an import ends
    COMPLETED with rejected items too), logged where its CloudWatchLogGroupArn says."""
    imported, errors = _count(description.get("ImportedItemCount")), _count(description.get("ErrorCount")) or 0
    return ItemsDone(
        imported,
        "imported (DescribeImport's ImportedItemCount)" if imported is not None else "DescribeImport gave no count",
        errors=errors,
        error_log=import_log_group(description) if errors else None,
    )


def import_log_group(description: Mapping[str, Any]) -> str:
    """Where ImportTable logged the items it rejected: the import's CloudWatchLogGroupArn, else AWS's default."""
    arn = str(description.get("CloudWatchLogGroupArn") or "")
    name = arn.split(":log-group:", 1)[1].removesuffix(":*") if ":log-group:" in arn else IMPORT_LOG_GROUP
    return f"the CloudWatch log group `{name}`" + (f" ({arn})" if arn else "")


def _count(value: Any) -> int | None:
    """A count from AWS: a whole number not below zero, else unknown."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
