"""boto3 sessions and clients per account and region: the default account, or an alias's assumed role."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code, error_message
from bot.aws.tables import TableRef
from bot.config import Account
from bot.errors import AwsError, PreconditionFailed
from bot.metrics import AWS_ERRORS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},  # a person is waiting: fail in seconds, not minutes
    connect_timeout=5,
    read_timeout=30,
    max_pool_connections=64,
    user_agent_extra="ddb-backup-bot",
)
# For calls whose parameters the bot took from AWS's own answers (a survey's DescribeTable of each name ListTables
# gave): botocore's client-side check of them only re-checks what AWS sent, and costs a tenth of a survey's CPU.
TRUSTED_PARAMETERS = Config(parameter_validation=False)
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Place:
    """Where a table lives: which credentials (alias or default) and which region."""

    alias: str | None
    region: str


class AwsAccounts:
    """Hands out cached boto3 clients for the default account or an aliased one (assumed role)."""

    def __init__(self, base: boto3.Session, accounts: dict[str, Account]) -> None:
        self._base = base
        self._accounts = accounts
        self._sessions: dict[str | None, boto3.Session] = {None: counting_errors(base)}
        self._clients: dict[tuple[str | None, str, str], Any] = {}
        self._identities: dict[str | None, str] = {}
        self._own_account: str | None = None
        self._regions: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    @property
    def aliases(self) -> frozenset[str]:
        """Aliases users may put before a table name."""
        return frozenset(self._accounts)

    def regions_of(self, alias: str) -> tuple[str, ...]:
        """The regions an aliased account's tables are looked for in (its `regions`, else its region)."""
        account = self._accounts[alias]
        return account.regions or (account.region or self.default_region,)

    def place_of(self, ref: TableRef, what: str | None = None) -> Place:
        """Resolve the credentials and region a table reference points to.

        An ARN naming an account that is neither an alias's nor the bot's own, or a region the bot cannot reach,
        is refused: acting on the bot's own account instead would touch another table of the same name.
        `what` names the thing in the refusal (default: the table as written).
        """
        named = what or f"`{ref.key}`"
        alias = ref.alias or self._alias_for_account(ref.account_id)
        if ref.account_id is not None and alias is None:
            self._require_own_account(ref.account_id, named)
        if ref.region is not None:
            self._require_known_region(ref.region, ref.partition or "aws", named)
        region = ref.region or (self._accounts[alias].region if alias else None) or self.default_region
        return Place(alias, region)

    def own_account_id(self) -> str:
        """The id of the account the bot's own credentials belong to (STS GetCallerIdentity, asked once)."""
        with self._lock:
            if self._own_account is not None:
                return self._own_account
        identity = self._client(Place(None, self.default_region), "sts").get_caller_identity()
        with self._lock:
            self._own_account = str(identity["Account"])
            self._identities.setdefault(None, str(identity["Arn"]))
            return self._own_account

    def account_id(self, alias: str | None) -> str:
        """The id of an alias's account (from its role's ARN), or of the bot's own (STS, asked once)."""
        return self._accounts[alias].role_arn.split(":")[4] if alias else self.own_account_id()

    def _require_own_account(self, account_id: str, named: str) -> None:
        try:
            own = self.own_account_id()
        except (ClientError, BotoCoreError) as exc:
            logger.warning("aws.caller_identity_failed", extra={"error_type": type(exc).__name__, "error": str(exc)})
            raise AwsError(
                f"{named} names account {account_id}, and I could not check which account I run in "
                f"(sts:GetCallerIdentity: {error_message(exc) if isinstance(exc, ClientError) else 'no answer'}), "
                "so nothing was done.",
                "Allow the bot's role sts:GetCallerIdentity (statement WhoAmI in deploy/iam-policy.json), "
                "or name the table by an account alias (`<alias>:<table>`).",
            ) from exc
        if account_id != own:
            known = ", ".join(f"`{a}`" for a in sorted(self._accounts)) or "none are configured"
            raise PreconditionFailed(
                f"{named} is in account {account_id}, which has no alias (known aliases: {known}); I run in "
                f"account {own} and will not act there instead. Nothing was done.",
                f"To reach account {account_id}, ask whoever runs the bot to give it an account alias (a role the "
                f"bot can assume there, e.g. `arn:aws:iam::{account_id}:role/ddb-backup-bot`), then name the table "
                "as `<alias>:<table>` or by its ARN again.",
            )

    def _require_known_region(self, region: str, partition: str, named: str) -> None:
        if region in self._reachable_regions(partition):
            return
        raise PreconditionFailed(
            f"{named} names region `{region}`, which is not a DynamoDB region of partition `{partition}` that I "
            "can reach. Nothing was done.",
            "Check the ARN's region (e.g. `eu-west-1`), or set the alias's `region` in the config file.",
        )

    def _reachable_regions(self, partition: str) -> frozenset[str]:
        """botocore's DynamoDB regions of the partition, plus the bot's own and its aliases' regions."""
        with self._lock:
            if partition not in self._regions:
                listed = set(self._base.get_available_regions("dynamodb", partition_name=partition))
                configured = {a.region for a in self._accounts.values() if a.region}
                self._regions[partition] = frozenset(listed | configured | {self.default_region})
            return self._regions[partition]

    @property
    def default_region(self) -> str:
        """The region of boto3's standard chain (AWS_REGION, profile), us-east-1 when none is set."""
        return self._base.region_name or DEFAULT_REGION

    def dynamodb(self, place: Place) -> DynamoDBClient:
        """A DynamoDB client for that place."""
        client: DynamoDBClient = self._client(place, "dynamodb")
        return client

    def s3(self, place: Place) -> S3Client:
        """An S3 client with the credentials of that place."""
        client: S3Client = self._client(place, "s3")
        return client

    def session(self, place: Place) -> boto3.Session:
        """That place's boto3 session (its credentials refresh themselves), for code that signs its own requests."""
        with self._lock:
            return self._session(place.alias)

    def client(self, place: Place, service: str, config: Config | None = None) -> Any:
        """Any other client (pricing, sts) for that place."""
        return self._client(place, service, config)

    def principal_arn(self, place: Place) -> str:
        """The ARN the bot acts as in that account, for messages about policies; cached."""
        with self._lock:
            if place.alias in self._identities:
                return self._identities[place.alias]
        try:
            identity = self._client(place, "sts").get_caller_identity()
        except (ClientError, BotoCoreError):
            return self._accounts[place.alias].role_arn if place.alias else "the bot's IAM role"
        with self._lock:
            self._identities[place.alias] = str(identity["Arn"])
            if place.alias is None:
                self._own_account = str(identity["Account"])
        return str(identity["Arn"])

    def unreachable(self, alias: str, config: Config) -> str | None:
        """None when the alias's role can be assumed and answers sts:GetCallerIdentity, else what to fix; for
        /readyz, where one broken account is a warning (the others still work), never a reason to stop."""
        account = self._accounts[alias]
        try:
            self._client(Place(alias, account.region or self.default_region), "sts", config).get_caller_identity()
        except AwsError as error:
            return (
                f"Account alias `{alias}`: I cannot assume {account.role_arn} ({error.code or 'refused'}). {error.fix}"
            )
        except (ClientError, BotoCoreError) as error:
            code = error_code(error) if isinstance(error, ClientError) else type(error).__name__
            return f"Account alias `{alias}`: the role {account.role_arn} does not answer ({code})."
        return None

    def _alias_for_account(self, account_id: str | None) -> str | None:
        if account_id is None:
            return None
        for alias, account in self._accounts.items():
            if account.role_arn.split(":")[4] == account_id:
                return alias
        return None

    def _client(self, place: Place, service: str, config: Config | None = None) -> Any:
        key = (place.alias, place.region, service if config is None else f"{service}:{id(config)}")
        with self._lock:
            if key not in self._clients:
                session: Any = self._session(place.alias)
                self._clients[key] = session.client(
                    service,
                    region_name=place.region,
                    config=CLIENT_CONFIG.merge(config) if config else CLIENT_CONFIG,
                )
            return self._clients[key]

    def _session(self, alias: str | None) -> boto3.Session:
        if alias not in self._sessions:
            assert alias is not None
            self._sessions[alias] = counting_errors(assumed_role_session(self._base, self._accounts[alias]))
        return self._sessions[alias]


def assumed_role_session(base: boto3.Session, account: Account) -> boto3.Session:
    """A session whose credentials come from STS AssumeRole and refresh themselves before they expire."""
    sts: Any = base.client(
        "sts", region_name=account.region or base.region_name or DEFAULT_REGION, config=CLIENT_CONFIG
    )

    def fetch() -> dict[str, str]:
        params: dict[str, Any] = {"RoleArn": account.role_arn, "RoleSessionName": "ddb-backup-bot"}
        if account.external_id:
            params["ExternalId"] = account.external_id
        try:
            creds = sts.assume_role(**params)["Credentials"]
        except ClientError as exc:
            raise AwsError(
                f"Could not assume role {account.role_arn} for account alias `{account.alias}`: {error_message(exc)}.",
                "Check that the role's trust policy allows the bot's own role and that the external id matches.",
                code=error_code(exc),
            ) from exc
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
    )
    core = botocore.session.get_session()
    core._credentials = credentials  # type: ignore[attr-defined]  # boto3's documented way to inject refreshable creds
    return boto3.Session(botocore_session=core, region_name=account.region or base.region_name)


def counting_errors(session: boto3.Session) -> boto3.Session:
    """Count every failed AWS call of the session's clients in ddbbot_aws_errors_total (service, operation, code)."""
    session.events.register("after-call", _count_error, unique_id="ddbbot-count-errors")
    return session


def _count_error(*, parsed: dict[str, Any], model: Any, **_: Any) -> None:
    code = (parsed.get("Error") or {}).get("Code") if isinstance(parsed, dict) else None
    if code:
        AWS_ERRORS.labels(model.service_model.service_name, model.name, str(code)[:64]).inc()
