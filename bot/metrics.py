"""Prometheus metrics of the bot (prometheus-client), served at GET /metrics.

Names follow Prometheus conventions (`ddbbot_…_total` counters, `_seconds` durations). Labels are bounded: command
names, outcomes, modes, export types, AWS services/operations/error codes, Slack methods, and table names (an
estate has hundreds of tables, not millions); never export ids, request ids or user ids.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

COMMANDS = Counter(
    "ddbbot_commands_total",
    "Slash commands answered, by command and outcome.",
    ["command", "outcome"],
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "ddbbot_ack_seconds",
    "Time from a request reaching /slack/events to its HTTP answer (Slack's 3-second acknowledgement).",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
    registry=REGISTRY,
)
EXPORTS_STARTED = Counter(
    "ddbbot_exports_started_total", "Exports started, by table and type.", ["table", "type"], registry=REGISTRY
)
EXPORTS_FINISHED = Counter(
    "ddbbot_exports_finished_total",
    "Exports that ended, by table, type and status (COMPLETED or FAILED).",
    ["table", "type", "status"],
    registry=REGISTRY,
)
EXPORT_SECONDS = Histogram(
    "ddbbot_export_duration_seconds",
    "How long DynamoDB took for an export, start to end, by type.",
    ["type"],
    buckets=(60, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800),
    registry=REGISTRY,
)
RESTORES = Counter(
    "ddbbot_restores_total",
    "Restore requests by mode and outcome (requested, approved, rejected, expired, succeeded, partial, failed).",
    ["mode", "outcome"],
    registry=REGISTRY,
)
RESTORES_RUNNING = Gauge(
    "ddbbot_restores_running", "Restores this replica is running now, by mode.", ["mode"], registry=REGISTRY
)
RESTORE_OVERDUE = Gauge(
    "ddbbot_restores_running_past_estimate",
    "Restores running longer than their estimated duration on this replica.",
    registry=REGISTRY,
)
LOADER_ITEMS = Counter(
    "ddbbot_loader_items_total", "Items the loader wrote, by kind (put or delete).", ["kind"], registry=REGISTRY
)
LOADER_RETRIES = Counter("ddbbot_loader_retries_total", "Write requests the loader sent again.", registry=REGISTRY)
LOADER_THROTTLES = Counter(
    "ddbbot_loader_throttles_total", "BatchWriteItem calls DynamoDB throttled or left partly undone.", registry=REGISTRY
)
LOADER_RATE = Gauge(
    "ddbbot_loader_items_per_second", "Items per second of the loads running now (sum).", registry=REGISTRY
)
SCHEDULE_FIRES = Counter(
    "ddbbot_schedule_fires_total",
    "Schedule fires by kind (scheduled, catch-up, manual) and outcome (started, failed, skipped, duplicate).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
SCHEDULE_MISSES = Counter(
    "ddbbot_schedule_misses_total",
    "Fires missed while no replica ran the scheduler (made once as a catch-up) or found late.",
    ["reason"],
    registry=REGISTRY,
)
LEADER = Gauge(
    "ddbbot_lease_holder",
    "1 while this replica holds the background lease (runs scheduler and tracker).",
    registry=REGISTRY,
)
WORK_CLAIMS = Counter(
    "ddbbot_work_claims_total",
    "Background work taken, by kind (restore, verification, drill, fire, fanout, note) and how: taken, or "
    "taken_over from a holder that stopped heartbeating.",
    ["kind", "how"],
    registry=REGISTRY,
)
WORK_GIVEN_UP = Counter(
    "ddbbot_work_given_up_total",
    "Background work given up after DDBBOT_WORK_MAX_ATTEMPTS takes (and reported), by kind.",
    ["kind"],
    registry=REGISTRY,
)
WORK_OUTCOMES = Counter(
    "ddbbot_work_outcomes_total",
    "How each take of background work ended, by kind and outcome (done, released, deferred, failed, lost).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
WORK_TARGETS = Counter(
    "ddbbot_work_targets_total",
    "Outcomes of the targets of fanned-out work (a many-table fire's tables, a message's channels), by kind and "
    "outcome: done, failed (tried again later), waiting (no attempt counted), given_up, dropped.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
SLACK_CALLS = Counter(
    "ddbbot_slack_api_calls_total",
    "Slack Web API calls, by method and result (ok or the error).",
    ["method", "result"],
    registry=REGISTRY,
)
SLACK_RATE_LIMITED = Counter(
    "ddbbot_slack_rate_limited_total", "HTTP 429 answers from Slack, by method.", ["method"], registry=REGISTRY
)
TABLE_PITR = Gauge(
    "ddbbot_table_pitr_enabled",
    "1 when point-in-time recovery is on for a table, 0 when off (as last seen by this replica).",
    ["table"],
    registry=REGISTRY,
)
AWS_ERRORS = Counter(
    "ddbbot_aws_errors_total",
    "AWS calls that failed, by service, operation and error code.",
    ["service", "operation", "code"],
    registry=REGISTRY,
)


def table_label(table_key: str) -> str:
    """A table as a label: its key (`alias:name` or name), cut to a bounded length."""
    return table_key[-120:]
