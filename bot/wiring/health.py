"""The slow half of readiness: whether Slack and AWS still answer (a reason not to send this replica work), and what
the settings allow that is probably not meant (warnings: shown in /readyz, the log and everyone's App Home).

Each is remembered for a while: /readyz is asked every few seconds and must answer within the orchestrator's
timeout, and auth.test, sts:GetCallerIdentity and an assume-role per account alias are not free.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import boto3
from slack_sdk import WebClient

from bot.authz import Authorizer
from bot.aws.accounts import AwsAccounts
from bot.settings import Settings
from bot.wiring.startup import STS_PROBE, StartupError, check_aws, check_slack

T = TypeVar("T")
OK_SECONDS = 60.0  # a check that passed is asked again after a minute
FAILED_SECONDS = 10.0  # one that failed sooner, so a replica is ready again soon after the cause is gone
WARNING_SECONDS = 300.0  # warnings change when settings or user groups do: every 5 minutes is enough


class Remembered(Generic[T]):
    """A value computed again only when the last one is older than its time (`ok` passing, `failed` not)."""

    def __init__(
        self,
        compute: Callable[[], T],
        passed: Callable[[T], bool],
        *,
        ok_seconds: float = OK_SECONDS,
        failed_seconds: float = FAILED_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._compute = compute
        self._passed = passed
        self._ok_seconds = ok_seconds
        self._failed_seconds = failed_seconds
        self._clock = clock
        self._last: tuple[float, T] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        with self._lock:
            last = self._last
        if last is not None:
            age = self._clock() - last[0]
            if age < (self._ok_seconds if self._passed(last[1]) else self._failed_seconds):
                return last[1]
        value = self._compute()
        with self._lock:
            self._last = (self._clock(), value)
        return value


@dataclass(frozen=True)
class Health:
    """Named checks (None: fine, else the problem) and the warnings, each remembered."""

    checks: Mapping[str, Callable[[], str | None]]
    warnings: Callable[[], tuple[str, ...]]


def build_health(
    settings: Settings,
    session: boto3.Session,
    slack_probe: WebClient,
    aws: AwsAccounts,
    authorizer: Authorizer,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Health:
    """Slack (auth.test) and AWS (sts:GetCallerIdentity) as checks; access rules and account aliases as warnings."""

    def slack() -> str | None:
        return _problem_of(lambda: check_slack(slack_probe))

    def identity() -> str | None:
        return _problem_of(lambda: check_aws(session, settings))

    def warnings() -> tuple[str, ...]:
        found = list(authorizer.access_warnings(settings.required_approvals))
        found += [problem for alias in sorted(aws.aliases) if (problem := aws.unreachable(alias, STS_PROBE))]
        return tuple(found)

    return Health(
        checks={
            "slack": Remembered(slack, _passed, clock=clock),
            "aws": Remembered(identity, _passed, clock=clock),
        },
        warnings=Remembered(warnings, lambda _found: True, ok_seconds=WARNING_SECONDS, clock=clock),
    )


def _passed(problem: str | None) -> bool:
    return problem is None


def _problem_of(check: Callable[[], object]) -> str | None:
    try:
        check()
    except StartupError as error:
        return error.message
    return None
