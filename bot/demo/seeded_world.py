"""The demo's AWS: moto's server behind the DynamoDB stand-ins (a moving PITR window, exports at a time and of a
window, bulk put), two accounts, and tables with hours of history, so every command can be tried as on AWS.

The world, written once at start through the front with the clock set back (`SeedingClock`):
- account 123456789012 (the bot's own): `orders` (PITR on since four hours ago, orders written, paid and cancelled
  every ten minutes since), `customers` (PITR off), the backup bucket;
- account 210987654321, alias `staging` in the demo's config file: a role `ddb-backup-bot` the bot assumes (as a
  member account's role would be set up), its own `orders` (PITR on) and bucket, which the config names as that
  table's export bucket.
Sizes: the tables report production-like TableSizeBytes (bot/demo/aws/sizes.py), so costs read in dollars. AWS Backup
protects nothing (bot/demo/aws/backup.py answers what moto lacks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.demo.aws.backup import answer_protected_resources
from bot.demo.aws.clock import SeedingClock, micros
from bot.demo.aws.exports import ExportPacing
from bot.demo.aws.pitr import RESTORE_LAG
from bot.demo.aws.sizes import ReportedSizes
from bot.demo.aws.standins import AwsStandIns, start_standins
from bot.demo.world import REGION, MotoServer, client, create_table, reset_moto, start_moto

OWN_ACCOUNT = "123456789012"  # moto's account for any access key it does not know, such as the demo's
ACCESS_KEY = "demo"
STAGING_ACCOUNT = "210987654321"
STAGING = "staging"
STAGING_ROLE = f"arn:aws:iam::{STAGING_ACCOUNT}:role/ddb-backup-bot"
STAGING_ADMIN_ROLE = f"arn:aws:iam::{STAGING_ACCOUNT}:role/OrganizationAccountAccessRole"
BUCKET = "acme-ddb-backups"
STAGING_BUCKET = "acme-staging-backups"
HISTORY = timedelta(hours=4)  # PITR on `orders` since then, so `at=` and `since=` reach back that far
WRITE_EVERY = timedelta(minutes=10)
FIRST_ORDERS = 24
STAGING_ORDERS = 12
EXPORT_SECONDS = 2.0  # how long an export stays IN_PROGRESS (AWS's take minutes; the bot's tracker sees it either way)
GB = 1024**3
# What DynamoDB would report for tables of this kind in production (a demo choice: see bot/demo/aws/sizes.py).
REPORTED_SIZES = {
    (OWN_ACCOUNT, "orders"): 48 * GB + 310 * 1024**2,
    (OWN_ACCOUNT, "customers"): 6 * GB + 700 * 1024**2,
    (STAGING_ACCOUNT, "orders"): 3 * GB + 120 * 1024**2,
}
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWN_ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    ],
}
CONFIG_FILE = f"""\
# The demo's config file (DDBBOT_CONFIG_FILE), written as you would write yours: see deploy/config.example.toml.
# `staging:orders` is the table `orders` of the staging account, reached by assuming its role.
[accounts.{STAGING}]
role_arn = "{STAGING_ROLE}"
region = "{REGION}"

[tables."{STAGING}:orders"]
bucket = "{STAGING_BUCKET}"
"""


@dataclass(frozen=True)
class DemoAws:
    """moto, the stand-ins in front of it and the clock they share; `url` is what every client talks to."""

    moto: MotoServer
    standins: AwsStandIns
    clock: SeedingClock
    seeded_at: datetime

    @property
    def url(self) -> str:
        return self.standins.url

    def items_at(self, table: str, at: datetime) -> int:
        """How many items the bot's own `table` held at `at`, from the stand-ins' history."""
        return len(self.standins.items_at(table, at, access_key=ACCESS_KEY))

    def changed_between(self, table: str, since: datetime, until: datetime) -> int:
        """How many items of the bot's own `table` were written in [since, until): an incremental export's lines."""
        timeline = self.standins.timeline(table, access_key=ACCESS_KEY)
        return len(timeline.transitions(micros(since), micros(until)))

    def stop(self) -> None:
        """Stop the front, the stand-ins' runners and moto."""
        self.standins.close()
        self.moto.stop()


def start_demo_aws(now: datetime | None = None) -> DemoAws:
    """Start moto and the stand-ins, and write the demo's world with its history (a second or two)."""
    moto, moto_url = start_moto()
    reset_moto(moto_url)  # moto keeps its accounts per process: one that ran moto before (a test run) starts afresh
    clock = SeedingClock()
    standins = start_standins(moto_url, clock=clock, export_pacing=ExportPacing(describes=None, seconds=EXPORT_SECONDS))
    ReportedSizes(standins.front, REPORTED_SIZES)
    answer_protected_resources(standins.front)
    try:
        seeded = now or datetime.now(UTC)
        _seed(standins.url, clock, seeded)
    except BaseException:
        standins.close()
        moto.stop()
        raise
    finally:
        clock.resume()
    return DemoAws(moto, standins, clock, seeded)


def write_config(folder: Path) -> Path:
    """The config file naming the staging account, in `folder`."""
    path = folder / "ddb-backup-bot.toml"
    path.write_text(CONFIG_FILE, encoding="utf-8")
    return path


def _client(service: str, url: str, **credentials: Any) -> Any:
    """A client of the front, as the demo's own account unless other credentials are given."""
    return client(
        service, url, **(credentials or {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": ACCESS_KEY})
    )


def _seed(url: str, clock: SeedingClock, now: datetime) -> None:
    start = now - HISTORY
    clock.seed_at(start)
    ddb = _client("dynamodb", url)
    create_table(ddb, "orders", pitr=True, items=[])
    create_table(ddb, "customers", pitr=False, items=[_customer(i) for i in range(1, 6)])
    _client("s3", url).create_bucket(Bucket=BUCKET)
    _seed_staging(url, clock, start)
    clock.seed_at(start)
    _orders_history(ddb, clock, start, now)


def _seed_staging(url: str, clock: SeedingClock, start: datetime) -> None:
    """The staging account as its admin sets it up: the bot's role (trusting the bot's account), a table, a bucket."""
    admin = _assumed(url, STAGING_ADMIN_ROLE)
    iam = _client("iam", url, **admin)
    iam.create_role(
        RoleName="ddb-backup-bot",
        AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
        Description="Assumed by ddb-backup-bot from the backup account",
    )
    ddb = _client("dynamodb", url, **admin)
    clock.seed_at(start + timedelta(hours=1))
    create_table(ddb, "orders", pitr=True, items=[_order(i, start) for i in range(1, STAGING_ORDERS + 1)])
    _client("s3", url, **admin).create_bucket(Bucket=STAGING_BUCKET)


def _assumed(url: str, role_arn: str) -> dict[str, str]:
    """Credentials of a role (moto's STS maps them to the role's account)."""
    credentials = _client("sts", url).assume_role(RoleArn=role_arn, RoleSessionName="demo-setup")["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def _orders_history(ddb: Any, clock: SeedingClock, start: datetime, now: datetime) -> None:
    """The first orders at once, then every ten minutes (half-way between whole hours' boundaries, so `at=-1h` and
    `since=-2h` never fall on a write) a new order and an older one paid, and every fourth time one cancelled."""
    for number in range(1, FIRST_ORDERS + 1):
        ddb.put_item(TableName="orders", Item=_order(number, start))
    live = set(range(1, FIRST_ORDERS + 1))
    number, moment, step = FIRST_ORDERS, start + WRITE_EVERY / 2, 0
    while moment < now - RESTORE_LAG:
        clock.seed_at(moment)
        number, step = number + 1, step + 1
        ddb.put_item(TableName="orders", Item=_order(number, moment))
        live.add(number)
        ddb.update_item(
            TableName="orders",
            Key={"pk": {"S": f"order#{number - 5:04d}"}, "sk": {"S": "v1"}},
            UpdateExpression="SET paid = :yes, #status = :paid",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":yes": {"BOOL": True}, ":paid": {"S": "paid"}},
        )
        if step % 4 == 0:
            cancelled = min(live)
            ddb.delete_item(TableName="orders", Key={"pk": {"S": f"order#{cancelled:04d}"}, "sk": {"S": "v1"}})
            live.discard(cancelled)
        moment += WRITE_EVERY


def _order(number: int, placed: datetime) -> dict[str, Any]:
    return {
        "pk": {"S": f"order#{number:04d}"},
        "sk": {"S": "v1"},
        "placed_at": {"S": placed.isoformat(timespec="seconds").replace("+00:00", "Z")},
        "total": {"N": f"{(number * 37) % 400 + 9}.{number % 100:02d}"},
        "paid": {"BOOL": False},
        "status": {"S": "new"},
        "lines": {"L": [{"M": {"sku": {"S": f"sku-{number % 17}"}, "qty": {"N": str(number % 3 + 1)}}}]},
    }


def _customer(number: int) -> dict[str, Any]:
    names = ("Ada", "Grace", "Edsger", "Barbara", "Donald")
    return {"pk": {"S": f"customer#{number}"}, "sk": {"S": "profile"}, "name": {"S": names[number - 1]}}
