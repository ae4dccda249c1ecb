"""Restore requests and their plans: what was asked, what exactly will run, and where the request stands."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from bot.models import ExportLocation
from bot.restores.bulk_options import BulkPut, Engine
from bot.restores.outcome import OutcomeCheck
from bot.restores.rate import WriteCeiling
from bot.restores.repairs import RepairOptions


class RestoreStatus(StrEnum):
    """PENDING until approved, rejected or expired; then RUNNING → SUCCEEDED, PARTIAL (the run ended without
    delivering every item its plan promised: bot.restores.outcome) or FAILED; CANCELLED when an operator cancelled it
    (before it ran, or while it ran: what was written by then stays)."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


LATEST = "latest"  # a PITR restore of the latest restorable time


class RestoreMode(StrEnum):
    """How a restore runs: ImportTable, RestoreTableToPointInTime, or the loader into an existing table."""

    IMPORT = "import"
    PITR = "pitr"
    LOAD = "load"
    RECOVER = "recover"  # /ddb-recover: an item or partition put back in place as it was at a time
    REVERT = "revert"  # /ddb-revert: a window's changes undone in place


DECIDED = frozenset(
    {
        RestoreStatus.APPROVED,
        RestoreStatus.REJECTED,
        RestoreStatus.EXPIRED,
        RestoreStatus.RUNNING,
        RestoreStatus.SUCCEEDED,
        RestoreStatus.PARTIAL,
        RestoreStatus.FAILED,
        RestoreStatus.CANCELLED,
    }
)
ACTIVE = frozenset({RestoreStatus.APPROVED, RestoreStatus.RUNNING})
FINISHED = frozenset(
    {
        RestoreStatus.REJECTED,
        RestoreStatus.EXPIRED,
        RestoreStatus.SUCCEEDED,
        RestoreStatus.PARTIAL,
        RestoreStatus.FAILED,
        RestoreStatus.CANCELLED,
    }
)
RETRYABLE = frozenset({RestoreStatus.FAILED, RestoreStatus.PARTIAL, RestoreStatus.CANCELLED})

MODE_NAMES = {
    RestoreMode.IMPORT: "ImportTable into a new table",
    RestoreMode.PITR: "point-in-time restore into a new table",
    RestoreMode.LOAD: "write the export's items into an existing table",
    RestoreMode.RECOVER: "put an item or partition back as it was, in place (conditional writes)",
    RestoreMode.REVERT: "undo a window's changes in place (conditional writes)",
}
REPAIR_MODES = frozenset({RestoreMode.RECOVER, RestoreMode.REVERT})


@dataclass(frozen=True)
class TableOrigin:
    """The table a restore comes from, where the bot can look at it (for what a new table does not inherit)."""

    name: str
    alias: str | None
    region: str
    arn: str | None = None  # PITR restores name their source by ARN too

    def as_dict(self) -> dict[str, Any]:
        """As stored in the plan; `arn` only when known, so older plans keep their hash."""
        data: dict[str, Any] = {"name": self.name, "alias": self.alias, "region": self.region}
        if self.arn is not None:
            data["arn"] = self.arn
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableOrigin:
        """Rebuild from a stored plan."""
        return cls(str(data["name"]), data.get("alias"), str(data.get("region") or ""), data.get("arn"))


@dataclass(frozen=True)
class ImportOptions:
    """ImportTable into a new table: where the data files are and the new table's creation parameters."""

    bucket: str
    bucket_owner: str | None
    key_prefix: str
    input_format: str
    compression: str
    table: Mapping[str, Any]  # TableCreationParameters, in AWS's own shape
    schema_basis: str
    source_table: TableOrigin | None
    source_export: LoadSource | None = None  # the export, with its manifests' checksum as approved

    def as_dict(self) -> dict[str, Any]:
        """As stored in the plan; `source_export` only when set, so plans stored before keep their hash."""
        data = {
            "bucket": self.bucket,
            "bucket_owner": self.bucket_owner,
            "key_prefix": self.key_prefix,
            "input_format": self.input_format,
            "compression": self.compression,
            "table": dict(self.table),
            "schema_basis": self.schema_basis,
            "source_table": self.source_table.as_dict() if self.source_table else None,
        }
        if self.source_export is not None:
            data["source_export"] = self.source_export.as_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImportOptions:
        """Rebuild from a stored plan."""
        source = data.get("source_table")
        export = data.get("source_export")
        return cls(
            bucket=str(data["bucket"]),
            bucket_owner=data.get("bucket_owner"),
            key_prefix=str(data["key_prefix"]),
            input_format=str(data.get("input_format") or "DYNAMODB_JSON"),
            compression=str(data.get("compression") or "GZIP"),
            table=dict(data.get("table") or {}),
            schema_basis=str(data.get("schema_basis") or ""),
            source_table=TableOrigin.from_dict(source) if source else None,
            source_export=LoadSource.from_dict(export) if export else None,
        )


@dataclass(frozen=True)
class PitrOptions:
    """RestoreTableToPointInTime: the source table and the moment (None: the latest restorable time)."""

    source_table: TableOrigin
    restore_time: datetime | None
    billing_mode: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """As stored in the plan; `billing_mode` only when one was asked for."""
        data: dict[str, Any] = {
            "source_table": self.source_table.as_dict(),
            "restore_time": self.restore_time.isoformat() if self.restore_time else LATEST,
        }
        if self.billing_mode:
            data["billing_mode"] = self.billing_mode
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PitrOptions:
        """Rebuild from a stored plan."""
        moment = data.get("restore_time") or LATEST
        return cls(
            source_table=TableOrigin.from_dict(data["source_table"]),
            restore_time=None if moment == LATEST else datetime.fromisoformat(str(moment)),
            billing_mode=data.get("billing_mode"),
        )


@dataclass(frozen=True)
class LoadSource:
    """One export the loader reads, and with which account's credentials."""

    url: str
    export_id: str
    export_type: str
    export_format: str
    bucket: str
    prefix: str
    owner: str | None
    read_alias: str | None
    read_region: str | None
    manifest_md5: str | None = None  # ExportManifest.checksum when planned: the run refuses other manifests
    export_arn: str | None = None  # set when the bot recorded the export: its record is what the run checks against
    item_count: int | None = None  # the items (incrementals: changes) the plan promises from this export
    count_basis: str | None = None  # where `item_count` comes from, in words

    @property
    def location(self) -> ExportLocation:
        """Where its files are."""
        return ExportLocation(self.bucket, self.prefix, self.export_id, self.owner)

    def as_dict(self) -> dict[str, Any]:
        """As stored in the plan; the fields added later only when set, so plans stored before keep their hash."""
        data: dict[str, Any] = {
            "url": self.url,
            "export_id": self.export_id,
            "export_type": self.export_type,
            "format": self.export_format,
            "bucket": self.bucket,
            "prefix": self.prefix,
            "owner": self.owner,
            "read_alias": self.read_alias,
            "read_region": self.read_region,
        }
        later: dict[str, str | int | None] = {
            "manifest_md5": self.manifest_md5,
            "export_arn": self.export_arn,
            "item_count": self.item_count,
            "count_basis": self.count_basis,
        }
        data.update({name: value for name, value in later.items() if value is not None})
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoadSource:
        """Rebuild from a stored plan."""
        return cls(
            url=str(data.get("url") or ""),
            export_id=str(data["export_id"]),
            export_type=str(data.get("export_type") or ""),
            export_format=str(data.get("format") or ""),
            bucket=str(data["bucket"]),
            prefix=str(data.get("prefix") or ""),
            owner=data.get("owner"),
            read_alias=data.get("read_alias"),
            read_region=data.get("read_region"),
            manifest_md5=data.get("manifest_md5"),
            export_arn=data.get("export_arn"),
            item_count=data.get("item_count"),
            count_basis=data.get("count_basis"),
        )


@dataclass(frozen=True)
class LoadOptions:
    """Into an existing table: the table's key attributes and the exports, oldest first; the engine that writes them
    and why (None in plans stored before the choice existed: the loader), and, when the full export goes through
    DynamoDB's bulk put, its parameters (the incrementals after it always go through the loader)."""

    key_names: tuple[str, ...]
    exports: tuple[LoadSource, ...]
    ceiling: WriteCeiling | None = None  # `rate=`: the most write units a second the load may use
    engine: Engine | None = None
    engine_reason: str | None = None
    bulk: BulkPut | None = None

    @property
    def by_bulk(self) -> bool:
        """True when the first export is written by StartBulkPutItems."""
        return self.engine == Engine.BULK and self.bulk is not None

    def as_dict(self) -> dict[str, Any]:
        """As stored in the plan; `rate`, the engine and bulk put only when set, so plans stored before keep their
        hash."""
        data: dict[str, Any] = {"key_names": list(self.key_names), "exports": [e.as_dict() for e in self.exports]}
        if self.ceiling is not None:
            data["rate"] = self.ceiling.as_dict()
        if self.engine is not None:
            data["engine"] = self.engine.value
        if self.engine_reason is not None:
            data["engine_reason"] = self.engine_reason
        if self.bulk is not None:
            data["bulk"] = self.bulk.as_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoadOptions:
        """Rebuild from a stored plan."""
        rate, engine, bulk = data.get("rate"), data.get("engine"), data.get("bulk")
        return cls(
            key_names=tuple(str(k) for k in data.get("key_names", [])),
            exports=tuple(LoadSource.from_dict(e) for e in data.get("exports", [])),
            ceiling=WriteCeiling.from_dict(rate) if rate else None,
            engine=Engine(str(engine)) if engine else None,
            engine_reason=data.get("engine_reason"),
            bulk=BulkPut.from_dict(bulk) if bulk else None,
        )


PlanOptions = ImportOptions | PitrOptions | LoadOptions | RepairOptions
OptionsT = TypeVar("OptionsT", ImportOptions, PitrOptions, LoadOptions, RepairOptions)
OPTIONS_OF_MODE: dict[RestoreMode, type[PlanOptions]] = {
    RestoreMode.IMPORT: ImportOptions,
    RestoreMode.PITR: PitrOptions,
    RestoreMode.LOAD: LoadOptions,
    RestoreMode.RECOVER: RepairOptions,
    RestoreMode.REVERT: RepairOptions,
}


@dataclass(frozen=True)
class RestorePlan:
    """Exactly what will run once approved; its hash binds every approval to it.

    `sources` are export ARNs or S3 URLs in the order they are applied (PITR: the source table's ARN);
    `options` holds every parameter the runner passes to AWS, so nothing is decided after the approval. The hash is
    of the canonical JSON of `as_dict()`, which is the stored form: plans stored before typed options hash the same.
    """

    mode: RestoreMode
    sources: tuple[str, ...]
    target: str
    alias: str | None
    region: str
    options: PlanOptions

    def __post_init__(self) -> None:
        if not isinstance(self.options, OPTIONS_OF_MODE[RestoreMode(self.mode)]):
            raise TypeError(f"a {self.mode} plan takes {OPTIONS_OF_MODE[self.mode].__name__}")

    def options_as(self, kind: type[OptionsT]) -> OptionsT:
        """The options, typed as the executor of this mode expects them."""
        if not isinstance(self.options, kind):
            raise TypeError(f"the {self.mode} plan has {type(self.options).__name__}, not {kind.__name__}")
        return self.options

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
            "options": json.loads(json.dumps(self.options.as_dict(), default=str)),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RestorePlan:
        """Rebuild a stored plan."""
        account = data.get("account") or {}
        mode = RestoreMode(data["mode"])
        return cls(
            mode=mode,
            sources=tuple(str(s) for s in data.get("sources", [])),
            target=str(data["target"]),
            alias=account.get("alias"),
            region=str(account.get("region", "")),
            options=OPTIONS_OF_MODE[mode].from_dict(data.get("options") or {}),
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
    bucket: str | None = None  # set for an s3:// source: the figures above come from that bucket's manifest
    owner: str | None = None  # the bucket's owner as given (owner= or the config), which S3 checks on each read
    unverified: tuple[str, ...] = ()  # what about the export's files could not be checked
    window_start: datetime | None = None  # an incremental export's window: the changes from…
    window_end: datetime | None = None  # …to (its `export_time` is the end)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the store; the bucket fields, `unverified` and the window only when set."""
        data: dict[str, Any] = {
            "label": self.label,
            "table": self.table,
            "export_id": self.export_id,
            "export_type": self.export_type,
            "export_time": self.export_time.isoformat() if self.export_time else None,
            "item_count": self.item_count,
            "size_bytes": self.size_bytes,
        }
        if self.bucket is not None:
            data.update(bucket=self.bucket, owner=self.owner)
        if self.unverified:
            data["unverified"] = list(self.unverified)
        if self.window_start is not None and self.window_end is not None:
            data.update(window_start=self.window_start.isoformat(), window_end=self.window_end.isoformat())
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SourceSummary:
        """Rebuild from the store."""
        moment, start, end = data.get("export_time"), data.get("window_start"), data.get("window_end")
        return cls(
            label=str(data.get("label", "")),
            table=data.get("table"),
            export_id=data.get("export_id"),
            export_type=data.get("export_type"),
            export_time=datetime.fromisoformat(moment) if moment else None,
            item_count=data.get("item_count"),
            size_bytes=data.get("size_bytes"),
            bucket=data.get("bucket"),
            owner=data.get("owner"),
            unverified=tuple(str(reason) for reason in data.get("unverified") or ()),
            window_start=datetime.fromisoformat(start) if start else None,
            window_end=datetime.fromisoformat(end) if end else None,
        )


@dataclass(frozen=True)
class TierEstimate:
    """One bulk put tier as approvers compare them: its price (words, when AWS publishes none) and duration."""

    tier: str
    price: str
    duration_seconds: float | None
    duration_basis: str
    chosen: bool = False
    offered: str | None = None  # why the tier cannot be chosen here (None: it can)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the store."""
        return {
            "tier": self.tier,
            "price": self.price,
            "duration_seconds": self.duration_seconds,
            "duration_basis": self.duration_basis,
            "chosen": self.chosen,
            "offered": self.offered,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TierEstimate:
        """Rebuild from the store."""
        return cls(
            tier=str(data.get("tier") or ""),
            price=str(data.get("price") or ""),
            duration_seconds=data.get("duration_seconds"),
            duration_basis=str(data.get("duration_basis") or ""),
            chosen=bool(data.get("chosen")),
            offered=data.get("offered"),
        )


@dataclass(frozen=True)
class Estimate:
    """What a restore will cost and take, at list prices (an estimate, labelled with its basis); for bulk put, each
    tier's price and duration (`tiers`)."""

    cost_usd: str | None
    duration_seconds: float | None
    basis: str
    tiers: tuple[TierEstimate, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the store; `tiers` only when set."""
        data: dict[str, Any] = {
            "cost_usd": self.cost_usd,
            "duration_seconds": self.duration_seconds,
            "basis": self.basis,
        }
        if self.tiers:
            data["tiers"] = [tier.as_dict() for tier in self.tiers]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Estimate:
        """Rebuild from the store."""
        tiers = tuple(TierEstimate.from_dict(t) for t in data.get("tiers") or ())
        return cls(data.get("cost_usd"), data.get("duration_seconds"), str(data.get("basis", "")), tiers)


@dataclass(frozen=True)
class RestoreRequest:
    """A restore request as stored: PENDING until approved, rejected or expired; then RUNNING → SUCCEEDED, PARTIAL,
    FAILED or CANCELLED."""

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
    notes: tuple[str, ...] = ()  # what planning found that approvers must weigh (not part of the plan hash)
    cancel_requested_by: str | None = None  # the operator who cancelled it while it ran
    cancel_requested_at: datetime | None = None
    retry_of: str | None = None  # the failed, partial or cancelled request this one asks again for

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
    def outcome_check(self) -> OutcomeCheck | None:
        """The outcome check's verdict on a run that ended (None before, and for results stored before it existed)."""
        check = self.result.get("check")
        return OutcomeCheck.from_dict(check) if isinstance(check, Mapping) else None

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
