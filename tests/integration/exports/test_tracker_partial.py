"""The export tracker follows many exports at once: one it cannot follow (its account alias removed from the config
since it started) is that export's error alone, and every other export still finishes and is reported."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.demo.slack_standin import SlackStandIn
from bot.exports.start import ExportOptions, start_export
from bot.models import ExportStatus, Requester
from bot.wiring.bootstrap import build_services
from tests.integration.conftest import OPS, bot_settings
from tests.support.schedules import wait_until


def test_an_export_of_an_account_no_longer_configured_does_not_stop_the_others_finishing(
    world: str, slack: SlackStandIn, tmp_path: Path
) -> None:
    services = build_services(bot_settings(tmp_path, slack))
    try:
        started = start_export(services.core, "orders", ExportOptions(), Requester("U0ALICE", OPS)).job
        orphan = replace(
            started,
            export_arn=started.export_arn.replace(started.export_id, "01700000000000-0ddba11"),
            export_id="01700000000000-0ddba11",
            account_alias="retired",
            client_token=None,
            fingerprint=None,
        )
        services.core.store.record_export(orphan)

        def finished() -> bool | None:
            report = services.tracker.run_cycle()
            assert report.errors == 1, "the export that cannot be followed is counted as an error"
            job = services.core.store.get_export(started.export_arn)
            return (job is not None and job.status == ExportStatus.COMPLETED) or None

        wait_until(finished, "the other export to finish", timeout=30)
        services.work_runner.run_pending()
        slack.wait_for(lambda m: m.channel == OPS and started.export_id in m.text and "COMPLETED" in m.text)
    finally:
        services.engine.dispose()
