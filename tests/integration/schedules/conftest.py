"""The schedule tests' services: built (not started) from the integration settings, so nothing fires behind a
test's back; several may be built in one test (replicas), all disposed afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.demo.slack_standin import SlackStandIn
from bot.wiring.bootstrap import build_services
from bot.wiring.services import Services
from tests.integration.conftest import bot_settings


@pytest.fixture
def services(world: str, slack: SlackStandIn, tmp_path: Path) -> Iterator[Callable[..., Services]]:
    built: list[Services] = []

    def build(**overrides: Any) -> Services:
        services = build_services(bot_settings(tmp_path, slack, **overrides))
        built.append(services)
        return services

    yield build
    for services in built:
        services.engine.dispose()
