"""Scheduled exports: add, list, remove, pause and resume them, and sync the ones declared in the config file.

The store is the source of truth; whoever changes a schedule tells `ScheduleCore.changed()`, and the replica that
runs the scheduler also re-reads the store every few seconds (changes may arrive through another replica).
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from bot.aws.pricing import gib
from bot.aws.table_info import describe_table
from bot.aws.tables import parse_table_ref
from bot.background.targets import TargetStore
from bot.background.work import WorkDesk
from bot.config import ConfigError, ScheduleSpec
from bot.core import Core
from bot.costs import ASSUMED_DAILY_CHANGE, INCREMENTAL_MINIMUM_BYTES, table_size
from bot.drills.models import DRILL_MAX_AGE, Drill
from bot.errors import BotError, NotAllowed, NotFound, PreconditionFailed, UsageError
from bot.exports.encryption import check_kms_key
from bot.exports.start import ExportOptions, check_bucket, check_format, check_owner, resolve_destination
from bot.models import MIN_INCREMENTAL_WINDOW, ExportType, PitrSurvey, Requester
from bot.schedules.costly import CostlySchedule, costly_reasons
from bot.schedules.models import Schedule, ScheduleSource, ScheduleType, ScheduleView, schedule_type
from bot.schedules.ports import CronCalendar, ScheduleNotifier
from bot.schedules.selection import matching_tables, parse_selector
from bot.schedules.store import ScheduleStore
from bot.timefmt import parse_duration
from bot.words import plural

logger = logging.getLogger(__name__)

OPTION_KEYS = ("bucket", "prefix", "owner", "format", "kms")
SCHEDULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MONTH = timedelta(days=30)
COUNTED_FIRES = 500
HORIZON = timedelta(days=8 * 366)  # a schedule that fires once in 8 years or less often is "never" in practice


@dataclass
class ScheduleCore:
    """What the scheduling use cases work with, built once in the wiring."""

    core: Core
    store: ScheduleStore
    calendar: CronCalendar
    notifier: ScheduleNotifier
    holder: str
    desk: WorkDesk  # runs a fire as claimed work in the caller's thread (a crash leaves it to be taken over)
    targets: TargetStore  # the tables of many-table fires, each with its own result (bot.background.fanout)
    oncall: str | None = None
    exports_per_account: int = 300  # DDBBOT_EXPORTS_PER_ACCOUNT: how many exports a many-table fire runs at once
    fanout_wait: timedelta = timedelta(seconds=15)  # how long a fire's queued tables wait for room between looks
    unprotected: Callable[[], PitrSurvey] | None = None  # PITR across every account (coverage)
    last_drill: Callable[[str], Drill | None] = lambda _table_key: None  # a table's newest restore drill
    queue_drill: Callable[[str, DrillOptions, Requester, str], Drill] | None = (
        None  # a drill schedule's fire (drill id)
    )
    drill_max_age: timedelta = DRILL_MAX_AGE  # DDBBOT_DRILL_MAX_AGE_DAYS: an older last drill is flagged
    listeners: list[Callable[[], None]] = field(default_factory=list)

    def changed(self) -> None:
        """A schedule was added, removed, paused or resumed: let the local scheduler resync now."""
        for listener in list(self.listeners):
            try:
                listener()
            except Exception:
                logger.exception("schedule.listener_failed")

    def channel_for(self, schedule: Schedule | None) -> str | None:
        """Where a schedule's messages go: its own channel, else DDBBOT_NOTIFY_CHANNEL."""
        return (schedule.channel if schedule else None) or self.core.notify_channel


@dataclass(frozen=True)
class NewSchedule:
    """`/ddb-schedule add` after parsing."""

    table: str
    cron: str
    timezone: str = "UTC"
    export_type: ScheduleType = ScheduleType.FULL
    options: dict[str, str] = field(default_factory=dict)
    channel: str | None = None


@dataclass(frozen=True)
class AddedSchedule:
    """The new schedule as `list` would show it, and whether its table can be exported today."""

    view: ScheduleView
    pitr_enabled: bool


DRILL_OPTION_KEYS = ("rto", "from", "random")


@dataclass(frozen=True)
class DrillOptions:
    """A drill schedule's options: the recovery time it must beat, and where each fire restores from (the latest
    full export, or point-in-time recovery at a moment drawn at random within `random_seconds` before the fire)."""

    rto_seconds: float | None = None
    from_pitr: bool = False
    random_seconds: float | None = None


def drill_options(raw: dict[str, str]) -> DrillOptions:
    """A drill schedule's options: `rto=` (seconds), `from=export|pitr`, and with `from=pitr`, `random=`."""
    unknown = sorted(set(raw) - set(DRILL_OPTION_KEYS))
    if unknown:
        raise UsageError(
            f"A drill schedule takes only `rto=`, `from=` and `random=`; not `{unknown[0]}=` (drills restore, they "
            "do not export; a schedule's moment moves with each fire, so it takes `random=`, not `at=`)."
        )
    source = raw.get("from", "export").lower()
    if source not in {"export", "pitr"}:
        raise UsageError(f"A drill schedule's `from=` is `export` or `pitr`, not `{source[:40]}`.")
    if "random" in raw and source != "pitr":
        raise UsageError(
            "`random=` draws a point in time to restore: add `from=pitr` (e.g. `from=pitr random=7d`, a moment "
            "within the last 7 days at each fire)."
        )
    return DrillOptions(
        rto_seconds=parse_duration(raw["rto"], "rto") if "rto" in raw else None,
        from_pitr=source == "pitr",
        random_seconds=parse_duration(raw["random"], "random") if "random" in raw else None,
    )


def check_options(export_type: str, raw: dict[str, str]) -> None:
    """The options fit the schedule's type: export options for exports, `rto=`, `from=` and `random=` for drills."""
    if schedule_type(export_type) == ScheduleType.DRILL:
        drill_options(raw)
    else:
        schedule_options(raw)


def schedule_options(raw: dict[str, str]) -> ExportOptions:
    """Validate a schedule's export options (from Slack or the config file): bucket, prefix, owner, format, kms."""
    unknown = sorted(set(raw) - set(OPTION_KEYS))
    if unknown:
        raise UsageError(f"A schedule takes only {', '.join(f'`{k}=`' for k in OPTION_KEYS)}; not `{unknown[0]}=`.")
    prefix = raw.get("prefix")
    if prefix is not None and (len(prefix) > 512 or "//" in prefix.strip("/") or any(ord(c) < 32 for c in prefix)):
        raise UsageError(f"`prefix={prefix}` is not a usable S3 prefix, e.g. `prefix=backups/dynamodb`.")
    return ExportOptions(
        bucket=check_bucket(raw["bucket"]) if "bucket" in raw else None,
        prefix=prefix.strip("/") if prefix is not None else None,
        owner=check_owner(raw["owner"]) if "owner" in raw else None,
        export_format=check_format(raw["format"]) if "format" in raw else None,
        kms_key=check_kms_key(raw["kms"]) if "kms" in raw else None,
    )


def check_schedule(sc: ScheduleCore, cron: str, timezone: str, export_type: str) -> None:
    """The cron expression and zone are valid, and an incremental schedule leaves DynamoDB's 15-minute minimum."""
    sc.calendar.check(cron, timezone)
    if schedule_type(export_type) == ScheduleType.INCREMENTAL:
        now = sc.core.clock()
        fires = sc.calendar.fires(cron, timezone, now, now + timedelta(days=8), 200)
        gaps = [b - a for a, b in itertools.pairwise(fires)]
        if gaps and min(gaps) < MIN_INCREMENTAL_WINDOW:
            raise UsageError(
                f'`cron="{cron}"` fires less than 15 minutes apart, and DynamoDB\'s incremental exports cover at '
                'least 15 minutes. Fire less often (e.g. cron="*/15 * * * *" or cron="0 * * * *").'
            )


def add_schedule(
    sc: ScheduleCore, request: NewSchedule, requester: Requester, *, confirmed: bool = False
) -> AddedSchedule | CostlySchedule:
    """Validate, pre-flight the table and the bucket, store, and let the scheduler pick it up. A schedule that
    would run full exports more often than hourly, or a second export schedule of a table, is not added unless
    `confirmed`: its monthly cost and the reasons are returned for the person to confirm."""
    core = sc.core
    check_schedule(sc, request.cron, request.timezone, request.export_type)
    check_options(request.export_type, request.options)
    key, name, pitr_enabled = _preflight(sc, request)
    now = core.clock()
    channel = request.channel or (None if core.notify_channel else requester.channel_id)
    if not confirmed:
        fires = sc.calendar.fires(request.cron, request.timezone, now, now + timedelta(days=8), 200)
        reasons = costly_reasons(request.export_type, key, fires, sc.store.all())
        if reasons:
            proposed = _new_schedule(request, "new", key, channel, requester, now)
            return CostlySchedule(schedule_view(sc, proposed, {}), reasons)
    for _ in range(5):
        schedule = _new_schedule(request, f"{_slug(name)}-{secrets.token_hex(2)}", key, channel, requester, now)
        if sc.store.add(schedule):
            break
    else:
        raise BotError("Could not find a free schedule id; try again.")
    audit = {**_audit(schedule), **({"confirmed": True} if confirmed else {})}
    core.store.audit(requester.user_id, "schedule.add", key, audit, f"added {schedule.id}")
    sc.changed()
    return AddedSchedule(schedule_view(sc, schedule, {}), pitr_enabled)


def _new_schedule(
    request: NewSchedule, schedule_id: str, key: str, channel: str | None, requester: Requester, now: datetime
) -> Schedule:
    return Schedule(
        id=schedule_id,
        table=request.table,
        table_key=key,
        cron=request.cron,
        timezone=request.timezone,
        export_type=request.export_type,
        options=dict(request.options),
        channel=channel,
        source=ScheduleSource.SLACK,
        paused=False,
        created_by=requester.user_id,
        created_at=now,
        active_since=now,
    )


def _preflight(sc: ScheduleCore, request: NewSchedule) -> tuple[str, str, bool]:
    """The table key, a name for the id, and whether PITR is on; a many-table selector is listed once now, so an
    account the bot cannot read is refused at once (its tables' PITR is checked at each fire). A drill schedule
    needs an existing table of one name, and the drills feature."""
    core = sc.core
    selector = parse_selector(request.table, core.aws.aliases)
    if schedule_type(request.export_type) == ScheduleType.DRILL:
        if selector is not None:
            raise UsageError("A drill schedule drills one table: name it (`orders`, `prod:orders`).")
        if sc.queue_drill is None:
            raise PreconditionFailed("Restore drills are not available in this bot; nothing was added.")
        ref, place = core.table(request.table)
        core.describe(ref, place)
        return ref.key, ref.name, True
    options = schedule_options(request.options)
    if selector is None:
        ref, place = core.table(request.table)
        resolve_destination(core, ref.key, options)
        _, window = core.describe(ref, place)
        return ref.key, ref.name, window.enabled
    if schedule_type(request.export_type) == ScheduleType.INCREMENTAL:
        raise UsageError(
            f"`{request.table}` covers many tables, and incremental chains are kept per table: use `type=full`, "
            "or one incremental schedule per table."
        )
    matching_tables(core, selector)  # the account's tables can be listed (one unreadable table is the fire's to name)
    resolve_destination(core, selector.key, options)
    return selector.key, selector.alias or "all", True


@dataclass(frozen=True)
class TableCosts:
    """A table's size and export rates, read once per listing; `problem` when AWS could not be asked."""

    size_bytes: int = 0
    region: str | None = None
    full_gb: Decimal | None = None
    incremental_gb: Decimal | None = None
    problem: str | None = None


def list_schedules(sc: ScheduleCore) -> list[ScheduleView]:
    """Every schedule with its next run, last result and monthly cost estimate."""
    sizes: dict[str, TableCosts] = {}
    return [schedule_view(sc, schedule, sizes) for schedule in sc.store.all()]


def find_schedule(sc: ScheduleCore, schedule_id: str) -> Schedule:
    """One schedule, or NotFound saying how to list them."""
    schedule = sc.store.get(schedule_id)
    if schedule is None:
        raise NotFound(f"There is no schedule `{schedule_id}`.", "See the ids with `/ddb-schedule list`.")
    return schedule


def remove_schedule(sc: ScheduleCore, schedule_id: str, requester: Requester) -> Schedule:
    """Delete a schedule added from Slack (config-declared ones are removed from the config file)."""
    schedule = find_schedule(sc, schedule_id)
    if schedule.from_config:
        raise NotAllowed(
            f"Schedule `{schedule.id}` is declared in the bot's config file, so it cannot be removed from Slack.",
            "Ask whoever runs the bot to remove it from the bot's config file, or `/ddb-schedule pause` it meanwhile.",
        )
    removed = sc.store.remove(schedule.id)
    sc.core.store.audit(requester.user_id, "schedule.remove", schedule.table_key, _audit(schedule), str(removed))
    sc.changed()
    return schedule


def pause_schedule(sc: ScheduleCore, schedule_id: str, requester: Requester, *, paused: bool) -> tuple[Schedule, bool]:
    """Pause or resume; the flag says whether anything changed (False: it already was)."""
    schedule = find_schedule(sc, schedule_id)
    changed = sc.store.set_paused(schedule.id, paused, sc.core.clock())
    action = "schedule.pause" if paused else "schedule.resume"
    sc.core.store.audit(requester.user_id, action, schedule.table_key, {"id": schedule.id}, str(changed))
    if changed:
        sc.changed()
    return find_schedule(sc, schedule.id), changed


def sync_config(sc: ScheduleCore, specs: tuple[ScheduleSpec, ...]) -> dict[str, list[str]]:
    """Make the store hold exactly the config file's schedules (paused flags are kept); raises ConfigError."""
    now = sc.core.clock()
    wanted = [_from_spec(sc, spec, now) for spec in specs]
    ids = [s.id for s in wanted]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"[[schedules]] ids must be unique; {sorted({i for i in ids if ids.count(i) > 1})} repeat.")
    outcome: dict[str, list[str]] = {"added": [], "changed": [], "same": [], "removed": []}
    for schedule in wanted:
        try:
            outcome[sc.store.put_config(schedule)].append(schedule.id)
        except ValueError as exc:
            raise ConfigError(f"[[schedules]] id = {schedule.id!r}: {exc}; choose another id.") from None
    for stale in sc.store.all():
        if stale.from_config and stale.id not in ids:
            sc.store.remove(stale.id)
            outcome["removed"].append(stale.id)
    if any(outcome[k] for k in ("added", "changed", "removed")):
        logger.info("schedule.config_applied", extra={k: v for k, v in outcome.items() if k != "same"})
        sc.changed()
    return outcome


def schedule_view(sc: ScheduleCore, schedule: Schedule, sizes: dict[str, TableCosts]) -> ScheduleView:
    """A schedule with what `list` shows; `sizes` caches each table's size and rates across one listing."""
    now = sc.core.clock()
    last_run = sc.store.last_runs([schedule.id]).get(schedule.id)
    last_export = sc.core.store.get_export(last_run.export_arn) if last_run and last_run.export_arn else None
    fires = sc.calendar.fires(schedule.cron, schedule.timezone, now, now + MONTH, COUNTED_FIRES)
    runs = _per_month(fires, now)
    if schedule.table_key not in sizes:
        sizes[schedule.table_key] = _table_costs(sc, schedule)
    table = sizes[schedule.table_key]
    cost: Decimal | None = None
    if table.problem is not None or table.full_gb is None or table.incremental_gb is None:
        basis = table.problem or "no price"
    elif schedule.export_type == ScheduleType.FULL:
        cost = gib(table.size_bytes) * table.full_gb * Decimal(str(runs))
        basis = f"{plural(runs, 'full export')} a month of {gib(table.size_bytes):,.2f} GB"
    else:
        change = _change_per_run(sc, schedule, table.size_bytes, runs)
        cost = gib(change) * table.incremental_gb * Decimal(str(runs))
        basis = (
            f"{plural(runs, 'incremental export')} a month, about {gib(change):.3f} GB of changes each (10 MB minimum)"
        )
    return ScheduleView(
        schedule=schedule,
        next_runs=()
        if schedule.paused
        else tuple(sc.calendar.fires(schedule.cron, schedule.timezone, now, now + HORIZON, 3)),
        last_run=last_run,
        last_export=last_export,
        runs_per_month=runs,
        monthly_cost=cost,
        cost_basis=basis,
        region=table.region,
    )


def _per_month(fires: list[datetime], now: datetime) -> float:
    if len(fires) < COUNTED_FIRES:
        return float(len(fires))
    span = (fires[-1] - now).total_seconds()
    return round(len(fires) * MONTH.total_seconds() / span) if span > 0 else float(len(fires))


def _table_costs(sc: ScheduleCore, schedule: Schedule) -> TableCosts:
    if schedule.export_type == ScheduleType.DRILL:
        return TableCosts(problem="a drill restores an export or a point in time: its cost is shown with each drill")
    if parse_selector(schedule.table, sc.core.aws.aliases) is not None:
        return TableCosts(problem="estimated per table: see `/ddb-cost <table>`")
    try:
        ref, place = sc.core.table(schedule.table)
        info = describe_table(sc.core.aws.dynamodb(place), ref, place)
        rates = sc.core.rates(place)
    except BotError as error:
        return TableCosts(problem=f"no estimate: {error.message}")
    measured = table_size(sc.core, info)
    return TableCosts(measured.size_bytes, rates.region, rates.export_full_gb, rates.export_incremental_gb)


def _change_per_run(sc: ScheduleCore, schedule: Schedule, size_bytes: int, runs: float) -> int:
    billed = [
        j.billed_size_bytes
        for j in sc.core.store.schedule_exports(schedule.id, 20)
        if j.export_type == ExportType.INCREMENTAL and j.billed_size_bytes
    ]
    if billed:
        average = sum(billed) // len(billed)
    else:
        days_per_run = Decimal(30) / Decimal(str(runs)) if runs else Decimal(1)
        average = int(Decimal(size_bytes) * ASSUMED_DAILY_CHANGE * min(days_per_run, Decimal(1)))
    return max(average, INCREMENTAL_MINIMUM_BYTES)


def _spec_key(sc: ScheduleCore, spec: ScheduleSpec) -> str:
    """The table key of a config schedule: one table, or a many-table selector (full exports only)."""
    selector = parse_selector(spec.table, sc.core.aws.aliases)
    if selector is None:
        return parse_table_ref(spec.table, sc.core.aws.aliases).key
    if schedule_type(spec.export_type) != ScheduleType.FULL:
        raise UsageError(
            f'`{spec.table}` covers many tables; incremental chains and drills are per table: use type = "full".'
        )
    return selector.key


def _from_spec(sc: ScheduleCore, spec: ScheduleSpec, now: datetime) -> Schedule:
    where = f"[[schedules]] id = {spec.key!r}"
    if not SCHEDULE_ID.match(spec.key):
        raise ConfigError(f"{where}: an id is 1-64 letters, digits, '.', '_' or '-'.")
    channel = spec.channel
    try:
        key = _spec_key(sc, spec)
        check_schedule(sc, spec.cron, spec.timezone, spec.export_type)
        check_options(spec.export_type, spec.options)
    except UsageError as error:
        raise ConfigError(f"{where}: {error.message}") from None
    return Schedule(
        id=spec.key,
        table=spec.table,
        table_key=key,
        cron=spec.cron,
        timezone=spec.timezone,
        export_type=schedule_type(spec.export_type),
        options=dict(spec.options),
        channel=str(channel) if channel else None,
        source=ScheduleSource.CONFIG,
        paused=False,
        created_by="config",
        created_at=now,
        active_since=now,
        expected_hours=float(spec.expected_hours) if spec.expected_hours is not None else None,
    )


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:24] or "table"


def _audit(schedule: Schedule) -> dict[str, object]:
    return {
        "id": schedule.id,
        "cron": schedule.cron,
        "tz": schedule.timezone,
        "type": schedule.export_type,
        "options": schedule.options,
        "channel": schedule.channel,
        "source": schedule.source,
    }
