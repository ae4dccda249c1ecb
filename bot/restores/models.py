"""Restore requests and their plans: what was asked, what exactly will run, and where the request stands."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RestoreStatus(StrEnum):
    """PENDING until approved, rejected or expired; then RUNNING → SUCCEEDED/FAILED."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class RestoreMode(StrEnum):
    """How a restore runs: ImportTable, RestoreTableToPointInTime, or the loader into an existing table."""

    IMPORT = "import"
    PITR = "pitr"
    LOAD = "load"


DECIDED = frozenset(
    {
        RestoreStatus.APPROVED,
        RestoreStatus.REJECTED,
        RestoreStatus.EXPIRED,
        RestoreStatus.RUNNING,
        RestoreStatus.SUCCEEDED,
        RestoreStatus.FAILED,
    }
)
ACTIVE = frozenset({RestoreStatus.APPROVED, RestoreStatus.RUNNING})
FINISHED = frozenset({RestoreStatus.REJECTED, RestoreStatus.EXPIRED, RestoreStatus.SUCCEEDED, RestoreStatus.FAILED})

MODE_NAMES = {
    RestoreMode.IMPORT: "ImportTable into a new table",
    RestoreMode.PITR: "point-in-time restore into a new table",
    RestoreMode.LOAD: "write the export's items into an existing table",
}


@dataclass(frozen=True)
class RestorePlan:
    """Exactly what will run once approved; its hash binds every approval to it.

    `sources` are export ARNs or S3 URLs in the order they are applied (PITR: the source table's ARN);
    `options` holds every parameter the runner passes to AWS, so nothing is decided after the approval.
    """

    mode: RestoreMode
    sources: tuple[str, ...]
    target: str
    alias: str | None
    region: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def canonical(self) -> str:
        """The plan as canonical JSON (sorted keys, no spaces): the same plan always gives the same text."""
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"), default=str)

    def digest(self) -> str:
        """sha256 of the canonical JSON, hex."""
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        """The plan as stored in the database."""
        return {
            "mode": self.mode,
            "sources": list(self.sources),
            "target": self.target,
            "account": {"alias": self.alias, "region": self.region},
            "options": json.loads(json.dumps(dict(self.options), default=str)),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RestorePlan:
        """Rebuild a stored plan."""
        account = data.get("account") or {}
        return cls(
            mode=RestoreMode(data["mode"]),
            sources=tuple(str(s) for s in data.get("sources", [])),
            target=str(data["target"]),
            alias=account.get("alias"),
            region=str(account.get("region", "")),
            options=dict(data.get("options") or {}),
        )


@dataclass(frozen=True)
class SourceSummary:
    """One source as the approval message shows it (display only; not part of the plan hash)."""

    label: str
    table: str | None = None
    export_id: str | None = None
    export_type: str | None = None
    export_time: datetime | None = None
    item_count: int | None = None
    size_bytes: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the store."""
        return {
            "label": self.label,
            "table": self.table,
            "export_id": self.export_id,
            "export_type": self.export_type,
            "export_time": self.export_time.isoformat() if self.export_time else None,
            "item_count": self.item_count,
            "size_bytes": self.size_bytes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SourceSummary:
        """Rebuild from the store."""
        moment = data.get("export_time")
        return cls(
            label=str(data.get("label", "")),
            table=data.get("table"),
            export_id=data.get("export_id"),
            export_type=data.get("export_type"),
            export_time=datetime.fromisoformat(moment) if moment else None,
            item_count=data.get("item_count"),
            size_bytes=data.get("size_bytes"),
        )


@dataclass(frozen=True)
class Estimate:
    """What a restore will cost and take, at list prices (an estimate, labelled with its basis)."""

    cost_usd: str | None
    duration_seconds: float | None
    basis: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the store."""
        return {"cost_usd": self.cost_usd, "duration_seconds": self.duration_seconds, "basis": self.basis}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Estimate:
        """Rebuild from the store."""
        return cls(data.get("cost_usd"), data.get("duration_seconds"), str(data.get("basis", "")))


@dataclass(frozen=True)
class RestoreRequest:
    """A restore request as stored: PENDING until approved, rejected or expired; then RUNNING → SUCCEEDED/FAILED."""

    id: str
    status: RestoreStatus
    plan: RestorePlan
    plan_hash: str
    requested_by: str
    required_approvals: int
    created_at: datetime
    expires_at: datetime
    sources: tuple[SourceSummary, ...] = ()
    estimate: Estimate | None = None
    channel_id: str | None = None
    response_url: str | None = None
    approval_channel: str | None = None
    approval_ts: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    aws_ref: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    failure_message: str | None = None
    runner: str | None = None
    heartbeat_at: datetime | None = None

    @property
    def mode(self) -> RestoreMode:
        """import | pitr | load."""
        return self.plan.mode

    @property
    def target(self) -> str:
        """The target table's name."""
        return self.plan.target

    @property
    def target_display(self) -> str:
        """The target as the user wrote it (`alias:name` when aliased)."""
        return f"{self.plan.alias}:{self.plan.target}" if self.plan.alias else self.plan.target

    @property
    def plan_intact(self) -> bool:
        """True when the stored plan still hashes to the stored hash (nothing edited it since the request)."""
        return self.plan.digest() == self.plan_hash

    @property
    def button_value(self) -> str:
        """What the Approve and Reject buttons carry: the request id and the plan hash."""
        return f"{self.id}:{self.plan_hash}"


@dataclass(frozen=True)
class Approval:
    """One approver's yes to one request."""

    request_id: str
    approver: str
    at: datetime


def parse_button_value(value: str) -> tuple[str, str]:
    """Split `<request id>:<plan hash>`; an empty hash when the value has no colon."""
    request_id, _, plan_hash = value.partition(":")
    return request_id.strip(), plan_hash.strip()
