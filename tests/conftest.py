"""Settings shared by every test: Hypothesis runs the same examples on every machine (the `ci` profile)."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from hypothesis import HealthCheck, settings

# Derandomized, so a run never fails on one machine and passes on the next; no deadline, since two shared cores
# make timings meaningless; few enough examples that the unit suite stays fast. HYPOTHESIS_PROFILE=dev explores more.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=40,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# botocore parses a service's JSON model (DynamoDB's, S3's: megabytes) once per Session, and the tests make hundreds
# of sessions (each test's AWS world, each bot it starts): on two cores that was a third of an integration test's
# set-up. The models are read-only data, which a Session already shares between its clients, so every Session in
# the test process shares one loader per data path (AWS_DATA_PATH) and each model is parsed once per worker.
botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)  # type: ignore[attr-defined]


def _aws_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("AWS_")}


AWS_AT_START = _aws_environment()  # taken when pytest loads this file, before any fixture runs


@pytest.fixture(autouse=True)
def _no_test_leaks_aws_settings() -> Iterator[None]:
    """A test that changes the AWS environment (endpoint, credentials, region) must put it back: a later test of
    the same worker would otherwise talk to a server that is gone, or to moto instead of what it expects."""
    yield
    after = _aws_environment()
    changed = sorted(set(after.items()) ^ set(AWS_AT_START.items()))
    assert after == AWS_AT_START, f"the AWS environment differs from the session's start after this test: {changed}"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Tests run in random order (pytest-randomly): say the seed, so a failure can be replayed in the same order."""
    seed = config.getoption("randomly_seed", None)
    if isinstance(seed, int):
        terminalreporter.write_line(
            f"Tests ran in random order with seed {seed}; replay it with: make test PYTEST_ARGS='-p randomly "
            f"--randomly-seed={seed}'"
        )
