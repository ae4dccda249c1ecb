"""The port through which restores report to people; handlers/restore_slack.py implements it with Slack."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from bot.background.notes import Delivery, NoteStamp
from bot.restores.models import Approval, RestoreRequest
from bot.restores.outcome import ItemsDone, ItemsPromised, OutcomeCheck


@dataclass(frozen=True)
class MessageRef:
    """Where a posted message is, so it can be edited and threaded under."""

    channel: str
    ts: str


@dataclass(frozen=True)
class CarryOver:
    """A source-table setting DynamoDB did not copy to the new table, and how to set it again."""

    setting: str
    source_state: str
    action: str
    needed: bool = True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CarryOver:
        """Rebuild from a stored result."""
        return cls(str(data["setting"]), str(data["source_state"]), str(data["action"]), bool(data.get("needed", True)))


@dataclass(frozen=True)
class RestoreProgress:
    """How far a running restore is; fields a mode does not know are None."""

    items: int | None = None
    files_done: int | None = None
    files_total: int | None = None
    deletes: int | None = None
    rate_per_second: float | None = None
    elapsed_seconds: float | None = None
    note: str | None = None
    units_per_second: float | None = None  # the loader: write units consumed a second
    ceiling_units: int | None = None  # the loader's ceiling (`rate=`), in write units a second
    throttles: int | None = None
    eta_seconds: float | None = None
    bytes_done: int | None = None  # bulk put: input bytes read so far…
    bytes_total: int | None = None  # …of this many (once DynamoDB measured the input)
    failed_items: int | None = None  # bulk put: items that failed validation so far


@dataclass(frozen=True)
class RestoreOutcome:
    """How a finished restore went: figures, and what the new table still lacks.

    An executor says what the plan promised (`promised`) and what its run did (`done`); the runner judges them with
    the one outcome check (bot.restores.outcome) and keeps the verdict in `check`, which is what is stored and shown.
    """

    table_arn: str | None = None
    item_count: int | None = None
    items_written: int | None = None
    deletes_applied: int | None = None
    files: int | None = None
    files_skipped: int | None = None
    retries: int | None = None
    duration_seconds: float | None = None
    not_carried_over: tuple[CarryOver, ...] = ()
    source_unreachable: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    promised: ItemsPromised | None = None
    done: ItemsDone | None = None
    check: OutcomeCheck | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the request's stored result: the verdict, not the inputs it was made from."""
        data = asdict(self)
        data["not_carried_over"] = [asdict(c) for c in self.not_carried_over]
        del data["promised"], data["done"]
        data["check"] = self.check.as_dict() if self.check else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RestoreOutcome:
        """Rebuild from a stored result."""
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k not in {"promised", "done"}}
        values["not_carried_over"] = tuple(CarryOver.from_dict(c) for c in data.get("not_carried_over", []))
        values["details"] = dict(data.get("details") or {})
        check = data.get("check")
        values["check"] = OutcomeCheck.from_dict(check) if isinstance(check, Mapping) else None
        return cls(**values)


class RestoreNotifier(Protocol):
    """Tells the approval channel, its thread and the requester what happens to a restore request.

    Every method but `approval_requested` and the three endings swallows and logs delivery failures: the store is
    the truth, and a lost Slack message must never stop or repeat a restore. The endings are notes
    (bot.background.notes): each destination's delivery is returned, recorded, retried or reported on its own.
    """

    def approval_requested(self, request: RestoreRequest) -> MessageRef:
        """Post the request with Approve and Reject buttons; raises BotError when it cannot be posted."""
        ...

    def approval_recorded(self, request: RestoreRequest, approvals: list[Approval]) -> None:
        """One approval of several needed: show who approved so far, keep the buttons."""
        ...

    def decided(self, request: RestoreRequest, approvals: list[Approval]) -> None:
        """APPROVED, REJECTED or EXPIRED: edit the message (who, when, buttons gone), thread it, tell the requester."""
        ...

    def started(self, request: RestoreRequest, resumed: str | None) -> None:
        """The restore started, or resumed after a restart (`resumed` says from where)."""
        ...

    def progress(self, request: RestoreRequest, progress: RestoreProgress) -> None:
        """A progress line in the thread."""
        ...

    def finished(self, request: RestoreRequest, outcome: RestoreOutcome, stamp: NoteStamp) -> Delivery:
        """The run ended (SUCCEEDED, or PARTIAL when the outcome check says the promise was missed), told to one of
        its destinations (`stamp.target`): the report with the items promised and done and what was not carried over
        (the thread, the notification channel), the message's state line (its edit), the summary (the requester)."""
        ...

    def failed(self, request: RestoreRequest, reason: str, stamp: NoteStamp) -> Delivery:
        """Failure: the reason and what to fix, told to one of its destinations."""
        ...

    def cancelled(self, request: RestoreRequest, outcome: RestoreOutcome | None, stamp: NoteStamp) -> Delivery:
        """An operator cancelled it: what was written by then (None: nothing ran), how to retry, and for a new table
        AWS could not stop making, the offer to delete it; told to one of its destinations."""
        ...
