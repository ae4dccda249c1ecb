"""What a restore into a new table did not bring along (TTL, streams, PITR, tags, auto scaling, deletion
protection), read from the source table when it is reachable, so nobody forgets to set it again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.aws.accounts import Place
from bot.core import Core
from bot.restores.models import TableOrigin
from bot.restores.notify import CarryOver
from bot.words import plural

logger = logging.getLogger(__name__)
SETTINGS = ("TTL", "Streams", "PITR", "Tags", "Auto scaling", "Deletion protection")
MAX_TAGS_SHOWN = 10


def not_carried_over(core: Core, source: TableOrigin | None, target: str) -> tuple[tuple[CarryOver, ...], str | None]:
    """One line per setting; `needed` marks those the source has and the new table lacks.

    The second value says why the source could not be read, when it could not.
    """
    if source is None:
        return _unknown("the source table is not known"), "the source table is not known"
    place = Place(source.alias, source.region)
    client = core.aws.dynamodb(place)
    try:
        table: dict[str, Any] = dict(client.describe_table(TableName=source.name)["Table"])
    except Exception as exc:
        reason = f"the source table `{source.name}` could not be read ({type(exc).__name__})"
        return _unknown(reason), reason
    checks: list[Callable[[], CarryOver]] = [
        lambda: _ttl(client, source.name, target),
        lambda: _streams(table, target),
        lambda: _pitr(client, source.name, target),
        lambda: _tags(client, table, target),
        lambda: _autoscaling(core, source.name, place, table, target),
        lambda: _deletion_protection(table, target),
    ]
    results = []
    for setting, check in zip(SETTINGS, checks, strict=True):
        try:
            results.append(check())
        except Exception as exc:
            logger.warning(
                "restore.carryover_unreadable",
                extra={"setting": setting, "table": source.name, "error_type": type(exc).__name__},
            )
            results.append(
                CarryOver(setting, f"could not be read ({type(exc).__name__})", "check it on the source table")
            )
    return tuple(results), None


def _unknown(reason: str) -> tuple[CarryOver, ...]:
    return tuple(CarryOver(s, f"unknown: {reason}", "check it on the source table and set it again") for s in SETTINGS)


def _ttl(client: Any, name: str, target: str) -> CarryOver:
    description = client.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
    status = description.get("TimeToLiveStatus", "DISABLED")
    if status not in {"ENABLED", "ENABLING"}:
        return CarryOver("TTL", "off on the source", "nothing to set", needed=False)
    attribute = description.get("AttributeName", "?")
    return CarryOver(
        "TTL",
        f"on, attribute `{attribute}`",
        f"aws dynamodb update-time-to-live --table-name {target} "
        f"--time-to-live-specification Enabled=true,AttributeName={attribute}",
    )


def _streams(table: dict[str, Any], target: str) -> CarryOver:
    spec = table.get("StreamSpecification") or {}
    if not spec.get("StreamEnabled"):
        return CarryOver("Streams", "off on the source", "nothing to set", needed=False)
    view = spec.get("StreamViewType", "NEW_AND_OLD_IMAGES")
    return CarryOver(
        "Streams",
        f"on ({view})",
        f"aws dynamodb update-table --table-name {target} --stream-specification "
        f"StreamEnabled=true,StreamViewType={view}, then point consumers (Lambda triggers, pipes) at the new stream",
    )


def _pitr(client: Any, name: str, target: str) -> CarryOver:
    description = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    pitr = description.get("PointInTimeRecoveryDescription", {})
    if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
        return CarryOver("PITR", "off on the source", "nothing to set", needed=False)
    days = pitr.get("RecoveryPeriodInDays") or 35
    return CarryOver("PITR", f"on ({days} days)", f"/ddb-pitr {target} enable days={days}")


def _tags(client: Any, table: dict[str, Any], target: str) -> CarryOver:
    tags = client.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
    if not tags:
        return CarryOver("Tags", "none on the source", "nothing to set", needed=False)
    shown = " ".join(f"Key={t['Key']},Value={t['Value']}" for t in tags[:MAX_TAGS_SHOWN])
    more = f" (and {len(tags) - MAX_TAGS_SHOWN} more)" if len(tags) > MAX_TAGS_SHOWN else ""
    return CarryOver(
        "Tags",
        plural(len(tags), "tag"),
        f"aws dynamodb tag-resource --resource-arn <arn of {target}> --tags {shown}{more}",
    )


def _autoscaling(core: Core, name: str, place: Place, table: dict[str, Any], target: str) -> CarryOver:
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    if billing == "PAY_PER_REQUEST":
        return CarryOver("Auto scaling", "not used (on-demand source)", "nothing to set", needed=False)
    autoscaling = core.aws.client(place, "application-autoscaling")
    resources = [f"table/{name}"] + [
        f"table/{name}/index/{index['IndexName']}" for index in table.get("GlobalSecondaryIndexes") or []
    ]
    targets = autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb", ResourceIds=resources).get(
        "ScalableTargets", []
    )
    if not targets:
        return CarryOver("Auto scaling", "off on the source", "nothing to set", needed=False)
    ranges = ", ".join(
        f"{t['ScalableDimension'].split(':')[-1]} {t['MinCapacity']}–{t['MaxCapacity']}" for t in targets[:6]
    )
    return CarryOver(
        "Auto scaling",
        f"{plural(len(targets), 'scalable target')}: {ranges}",
        f"register the same scalable targets and scaling policies for {target} (application-autoscaling "
        "register-scalable-target / put-scaling-policy)",
    )


def _deletion_protection(table: dict[str, Any], target: str) -> CarryOver:
    if not table.get("DeletionProtectionEnabled"):
        return CarryOver("Deletion protection", "off on the source", "nothing to set", needed=False)
    return CarryOver(
        "Deletion protection",
        "on",
        f"aws dynamodb update-table --table-name {target} --deletion-protection-enabled",
    )
