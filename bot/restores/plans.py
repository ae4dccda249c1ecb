"""Turn a restore request into an exact plan after checking everything AWS would refuse, with its estimate.

A failed check raises a BotError whose sentence says what is wrong; nothing is stored or posted then.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.accounts import Place
from bot.aws.errors import error_code, translate
from bot.aws.table_info import TableInfo, describe_table
from bot.aws.tables import TableRef
from bot.core import Core
from bot.errors import PreconditionFailed, UsageError
from bot.exports.reference import ReferenceStore
from bot.models import ExportStatus, ExportType
from bot.restores.estimates import import_estimate, load_estimate, pitr_estimate
from bot.restores.export_checks import (
    checked_against_record,
    foreign_notes,
    other_table_notes,
    require_contiguous_chain,
)
from bot.restores.models import (
    Estimate,
    ImportOptions,
    LoadOptions,
    PitrOptions,
    RestoreMode,
    RestorePlan,
    SourceSummary,
    TableOrigin,
)
from bot.restores.rate import RateRequest, describe_for_capacity, resolve_ceiling
from bot.restores.schema import TableSchema, keys_text, known_schema, schema_for_new_table
from bot.restores.sources import (
    ResolvedExport,
    import_checksum,
    import_data_prefix,
    key_types_of_items,
    resolve_export,
    with_manifest,
)
from bot.timefmt import iso

ON_DEMAND = "PAY_PER_REQUEST"
PROVISIONED = "PROVISIONED"
BILLING = {"on-demand": ON_DEMAND, "provisioned": PROVISIONED}
DEFAULT_CAPACITY = 5


@dataclass(frozen=True)
class RestoreSpec:
    """What the user asked for, parsed; `sources` are export ids, ARNs or S3 URLs (PITR: the table); `owner` is
    the account the requester says owns the S3 URLs' bucket."""

    mode: RestoreMode
    sources: tuple[str, ...]
    target: str
    key: tuple[tuple[str, str], ...] = ()
    billing: str | None = None
    at: datetime | None = None
    owner: str | None = None
    rate: RateRequest | None = None  # `rate=` of `into=`; None: DDBBOT_RESTORE_RATE


@dataclass(frozen=True)
class PlannedRestore:
    """A checked plan with what the approval message shows about it."""

    plan: RestorePlan
    sources: tuple[SourceSummary, ...]
    estimate: Estimate
    notes: tuple[str, ...] = ()


def plan_restore(
    core: Core,
    spec: RestoreSpec,
    *,
    default_rate: RateRequest | None = None,
    references: ReferenceStore | None = None,
) -> PlannedRestore:
    """Check the request and build its plan; raises a BotError saying what to fix when a check fails.

    `default_rate` (DDBBOT_RESTORE_RATE) is the loader's ceiling when an `into=` request gives no `rate=`;
    `references` holds the bot's record of the exports it made, which every export it recorded is checked against.
    """
    if spec.mode == RestoreMode.IMPORT:
        return _plan_import(core, spec, references)
    if spec.mode == RestoreMode.PITR:
        return _plan_pitr(core, spec)
    if spec.mode == RestoreMode.LOAD:
        return _plan_load(core, spec if spec.rate is not None else replace(spec, rate=default_rate), references)
    raise UsageError(f"Unknown restore mode `{spec.mode}`.")


def _resolved(core: Core, text: str, spec: RestoreSpec, references: ReferenceStore | None) -> ResolvedExport:
    """One export, its manifest read once, checked against the bot's record of it when there is one."""
    source = with_manifest(core, resolve_export(core, text, spec.owner))
    reference = references.get(source.export_arn) if references is not None and source.export_arn else None
    return checked_against_record(source, reference)


# --------------------------------------------------------------------------------------------- ImportTable


def _plan_import(core: Core, spec: RestoreSpec, references: ReferenceStore | None) -> PlannedRestore:
    if len(spec.sources) != 1:
        raise UsageError("`to=` restores exactly one full export into a new table; `into=` takes several.")
    source = _resolved(core, spec.sources[0], spec, references)
    _require_completed(source)
    if source.export_type != ExportType.FULL:
        raise PreconditionFailed(
            f"Export `{source.export_id}` is incremental: ImportTable can only load a full export. Nothing was asked.",
            "Restore its full export with `to=`, then apply the incrementals with `into=<that table>`.",
        )
    ref, place = core.table(spec.target)
    _require_new_table_name(core, ref)
    _require_absent(core, ref, place)
    schema, schema_notes = schema_for_new_table(core, source, spec.key)
    creation = _creation_parameters(ref.name, schema, BILLING.get(spec.billing or "on-demand", ON_DEMAND))
    owner = _bucket_owner(core, source, place)
    key_prefix = import_data_prefix(core, source)
    options = ImportOptions(
        bucket=source.bucket,
        bucket_owner=owner,
        key_prefix=key_prefix,
        input_format=source.export_format,
        compression="GZIP",
        table=creation,
        schema_basis=schema.basis,
        source_table=_origin(source),
        source_export=replace(source.load_source(), manifest_md5=import_checksum(core, source, key_prefix)),
    )
    plan = RestorePlan(RestoreMode.IMPORT, (source.plan_source,), ref.name, place.alias, place.region, options)
    rates = core.rates(place)
    notes = [*_unverified_notes([source]), *foreign_notes([source]), *schema_notes]
    if schema.local_indexes:
        notes.append(
            f"The source table has {schema.local_indexes} local secondary index(es): ImportTable cannot create "
            "them, so the new table will not have them."
        )
    return PlannedRestore(plan, (source.summary(),), import_estimate(rates, source.size_bytes), tuple(notes))


def _creation_parameters(name: str, schema: TableSchema, billing: str) -> dict[str, Any]:
    """ImportTable's TableCreationParameters: the key schema, GSIs and capacity (provisioned billing only)."""
    creation: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": schema.attribute_definitions,
        "KeySchema": schema.key_schema,
        "BillingMode": billing,
    }
    capacity = schema.throughput or {"ReadCapacityUnits": DEFAULT_CAPACITY, "WriteCapacityUnits": DEFAULT_CAPACITY}
    if billing == PROVISIONED:
        creation["ProvisionedThroughput"] = capacity
    if schema.gsis:
        creation["GlobalSecondaryIndexes"] = [
            {**gsi, "ProvisionedThroughput": gsi.get("ProvisionedThroughput") or capacity}
            if billing == PROVISIONED
            else {k: v for k, v in gsi.items() if k != "ProvisionedThroughput"}
            for gsi in schema.gsis
        ]
    return creation


def _bucket_owner(core: Core, source: ResolvedExport, target: Place) -> str | None:
    """S3BucketOwner when the bucket belongs to another account than the one the new table is made in.

    For an S3 URL only the owner the requester or the config gave counts: its manifest's table ARN is hearsay.
    """
    if source.bucket_owner or source.from_url:
        return source.bucket_owner
    if source.source_place is None or source.source_place.alias == target.alias or not source.account_id:
        return None
    return source.account_id


def _origin(source: ResolvedExport) -> TableOrigin | None:
    if source.table_name is None or source.source_place is None:
        return None
    return TableOrigin(source.table_name, source.source_place.alias, source.source_place.region)


# -------------------------------------------------------------------------------------------------- PITR


def _plan_pitr(core: Core, spec: RestoreSpec) -> PlannedRestore:
    source_ref, source_place = core.table(spec.sources[0])
    info, window = core.describe(source_ref, source_place)
    if not window.enabled:
        raise PreconditionFailed(
            f"Point-in-time recovery is off for `{source_ref.display}`, so there is nothing to restore from. "
            "Nothing was asked.",
            f"Restore from an export instead (`/ddb-restore {source_ref.display}` lists them).",
        )
    if spec.at is not None and not window.contains(spec.at):
        raise PreconditionFailed(
            f"`at={iso(spec.at)}` is outside the PITR window of `{source_ref.display}` "
            f"({iso(window.earliest)} to {iso(window.latest)}). Nothing was asked.",
            "Pick a time inside that window, or `at=latest`.",
        )
    ref, place = core.table(spec.target)
    if place != source_place:
        raise UsageError(
            f"A point-in-time restore creates the new table in the source table's account and region "
            f"({source_place.alias or 'default account'}, {source_place.region}); `to={spec.target}` is elsewhere."
        )
    _require_new_table_name(core, ref)
    _require_absent(core, ref, place)
    options = PitrOptions(
        source_table=TableOrigin(info.name, source_place.alias, place.region, arn=info.arn),
        restore_time=spec.at,
        billing_mode=BILLING[spec.billing] if spec.billing else None,
    )
    plan = RestorePlan(RestoreMode.PITR, (info.arn,), ref.name, place.alias, place.region, options)
    moment = spec.at or window.latest
    summary = SourceSummary(
        label=f"{source_ref.display} as of {iso(spec.at) if spec.at else 'the latest restorable time'}",
        table=source_ref.display,
        export_time=moment,
        item_count=info.item_count,
        size_bytes=info.size_bytes,
    )
    return PlannedRestore(plan, (summary,), pitr_estimate(core.rates(place), info))


# ------------------------------------------------------------------------------------- into= (the loader)


def _plan_load(core: Core, spec: RestoreSpec, references: ReferenceStore | None) -> PlannedRestore:
    sources = [_resolved(core, text, spec, references) for text in spec.sources]
    for source in sources:
        _require_completed(source)
    ids = [s.export_id for s in sources]
    if len(set(ids)) != len(ids):
        raise UsageError("The same export is named twice; name each export once.")
    ordered = sorted(sources, key=_apply_order)
    require_contiguous_chain(ordered)
    ref, place = core.table(spec.target)
    target = _require_present(core, ref, place)
    target_keys = TableSchema(
        target.snapshot.get("KeySchema", []), target.snapshot.get("AttributeDefinitions", [])
    ).keys()
    for source in ordered:
        _require_matching_keys(core, source, target_keys, ref)
    ceiling = None
    if spec.rate is not None:
        capacity = describe_for_capacity(core.aws.dynamodb(place), ref.name, place)
        ceiling = resolve_ceiling(spec.rate, capacity)
    options = LoadOptions(tuple(target_keys), tuple(s.load_source() for s in ordered), ceiling)
    plan = RestorePlan(
        RestoreMode.LOAD, tuple(s.plan_source for s in ordered), ref.name, place.alias, place.region, options
    )
    on_demand = target.snapshot.get("BillingModeSummary", {}).get("BillingMode") == ON_DEMAND
    estimate = load_estimate(ordered, on_demand=on_demand, ceiling=ceiling)
    notes = [*_unverified_notes(ordered), *foreign_notes(ordered), *other_table_notes(ordered, ref, place)]
    if ordered[0].export_type == ExportType.INCREMENTAL:
        notes.append(
            "The first export applied is incremental: the table must already hold the state that export starts from."
        )
    return PlannedRestore(plan, tuple(s.summary() for s in ordered), estimate, tuple(notes))


def _unverified_notes(sources: list[ResolvedExport]) -> list[str]:
    """What could not be checked about each export's files, named by export when there are several."""
    named = len(sources) > 1
    return [
        f"Export `{source.export_id}`: {reason}." if named else f"{reason}."
        for source in sources
        for reason in (source.manifest.unverified if source.manifest else ())
    ]


def _apply_order(source: ResolvedExport) -> tuple[datetime, int]:
    """Full exports by their export time, incrementals by the end of their window: oldest state first."""
    moment = source.moment or datetime.max.replace(tzinfo=None)
    if moment.tzinfo is not None:
        moment = moment.replace(tzinfo=None)
    return moment, 0 if source.export_type == ExportType.FULL else 1


def _require_matching_keys(core: Core, source: ResolvedExport, target_keys: dict[str, str], ref: TableRef) -> None:
    schema = known_schema(core, source)
    if schema is not None:
        keys, basis = schema.keys(), schema.basis
    else:
        peeked = key_types_of_items(core, source, list(target_keys))
        if peeked is None:
            return
        keys, basis = peeked, "its first item"
    if keys != target_keys:
        raise PreconditionFailed(
            f"The key schema of `{ref.display}` ({keys_text(target_keys)}) does not match export "
            f"`{source.export_id}` ({keys_text(keys)}, from {basis}). Nothing was asked.",
            "Write into a table with the same partition and sort key, or restore into a new table with `to=`.",
        )


# ------------------------------------------------------------------------------------------------- checks


def _require_completed(source: ResolvedExport) -> None:
    if source.status != ExportStatus.COMPLETED:
        raise PreconditionFailed(
            f"Export `{source.export_id}` is {source.status}, not COMPLETED: only a finished export can be "
            "restored. Nothing was asked.",
            "Wait for it (`/ddb-status " + source.export_id + "`), or pick another export.",
        )


def _require_new_table_name(core: Core, ref: TableRef) -> None:
    """Restores may create only tables the bot's IAM policy lets them create (`table/<prefix>*`): say so before
    anyone is asked to approve, instead of AWS refusing it afterwards."""
    prefix = core.new_table_prefix
    if prefix and not ref.name.startswith(prefix):
        raise PreconditionFailed(
            f"`to={ref.display}`: restores create only tables whose names start with `{prefix}` "
            f"(DDBBOT_RESTORE_TABLE_PREFIX, as the bot's IAM policy allows). Nothing was asked.",
            f"Name the new table e.g. `to={prefix}{ref.name}`.",
        )


def _require_absent(core: Core, ref: TableRef, place: Place) -> None:
    """`to=` must name a table that does not exist yet: DynamoDB restores only into new tables."""
    try:
        core.aws.dynamodb(place).describe_table(TableName=ref.name)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return
        raise translate(exc, "dynamodb:DescribeTable", f"Table `{ref.display}`") from exc
    except Exception as exc:
        raise translate(exc, "dynamodb:DescribeTable", f"Table `{ref.display}`") from exc
    raise PreconditionFailed(
        f"Table `{ref.display}` already exists ({place.region}); `to=` creates a new table and never overwrites one. "
        "Nothing was asked.",
        "Pick a new name, or use `into=` to write the export's items into that existing table.",
    )


def _require_present(core: Core, ref: TableRef, place: Place) -> TableInfo:
    try:
        return describe_table(core.aws.dynamodb(place), ref, place)
    except Exception as exc:
        error = translate(exc, "dynamodb:DescribeTable", f"Table `{ref.display}`")
        if getattr(error, "code", "") == "ResourceNotFoundException":
            raise PreconditionFailed(
                f"Table `{ref.display}` does not exist ({place.region}); `into=` writes into an existing table. "
                "Nothing was asked.",
                "Create it first, or restore into a new table with `to=`.",
            ) from exc
        raise error from exc
