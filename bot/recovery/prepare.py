"""A preparation carried to its end as claimed work (bot/background): follow its exports, read them into repair
actions, dry-run them, then answer the requester (`/ddb-item`) or put the repair up for approval (`/ddb-recover`,
`/ddb-revert`).

Each step is safe to run twice (the work is taken over after a crash): exports are started with tokens derived from
the preparation, actions are replaced as a whole, and a request already made for the preparation is found again
rather than made twice. The final state is recorded, with the note that tells the requester, in the claim's
finishing transaction, so a worker that lost its claim records and tells nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from bot.aws.accounts import Place
from bot.aws.table_info import describe_table
from bot.aws.tables import TableRef
from bot.core import Core
from bot.errors import BotError
from bot.loader.endpoint import DynamoDbEndpoint
from bot.recovery.actions import RepairAction
from bot.recovery.exporting import FAILED, RUNNING, refresh
from bot.recovery.live import live_items
from bot.recovery.models import FINAL, Kind, Preparation, Source, State
from bot.recovery.reading import Verdicts, counts, items_then, judged_locally, key_actions, window_actions
from bot.recovery.sources import start_exports
from bot.recovery.store import RecoveryStore
from bot.recovery.writer import MAX_READ_KEYS, ConditionalWriter
from bot.restores.models import RestoreRequest

logger = logging.getLogger(__name__)

Finish = Callable[[], AbstractContextManager[Connection]]


@dataclass(frozen=True)
class Waiting:
    """The exports are still running: look again after `seconds`."""

    seconds: float


@dataclass(frozen=True)
class RepairRequests:
    """How a prepared repair becomes a restore request, and how one already made for it is found again."""

    make: Callable[[Preparation], RestoreRequest]
    find: Callable[[str], RestoreRequest | None]


class Preparer:
    """Advances preparations; `poll_seconds` is how long to wait for running exports."""

    def __init__(self, core: Core, store: RecoveryStore, requests: RepairRequests, poll_seconds: float) -> None:
        self.core = core
        self.store = store
        self._requests = requests
        self._poll = poll_seconds

    def advance(self, preparation_id: str, halt: threading.Event, finish: Finish) -> Waiting | None:
        """One step: Waiting while the exports run; None once the preparation reached its end (or had)."""
        preparation = self.store.get(preparation_id)
        if preparation is None or preparation.state in FINAL:
            return None
        place = Place(preparation.account_alias, preparation.region)
        try:
            if preparation.source == Source.PITR:
                preparation = self._follow(preparation, place)
                if preparation.state == State.FAILED:
                    self._fail(preparation, preparation.failure or "an export failed", finish)
                    return None
                if any(export.status == RUNNING for export in preparation.exports):
                    return Waiting(self._poll)
            self._prepare(preparation, place, halt, finish)
        except BotError as error:
            self._fail(preparation, str(error), finish)
        return None

    def give_up(self, preparation_id: str, reason: str, finish: Finish) -> None:
        """The work failed too often: record and say so."""
        preparation = self.store.get(preparation_id)
        if preparation is not None and preparation.state not in FINAL:
            self._fail(preparation, f"I gave up preparing it: {reason}", finish)

    # ------------------------------------------------------------------------------------------ steps

    def _follow(self, preparation: Preparation, place: Place) -> Preparation:
        """Start the exports if the command could not record them, then ask DynamoDB how they stand."""
        exports = preparation.exports
        if not exports:
            info = describe_table(self.core.aws.dynamodb(place), TableRef(preparation.table_name), place)
            exports = start_exports(self.core, info, preparation)
        exports = tuple(refresh(self.core, place, export) for export in exports)
        self.store.update(preparation.id, exports=exports)
        failed = [export for export in exports if export.status == FAILED]
        if failed:
            reason = (
                f"DynamoDB's export {failed[0].export_id} ended FAILED ({failed[0].failure}); nothing was read. "
                "Ask again; if it fails again, check the bot's access to the export bucket."
            )
            return replace(preparation, exports=exports, state=State.FAILED, failure=reason)
        return replace(preparation, exports=exports)

    def _prepare(self, preparation: Preparation, place: Place, halt: threading.Event, finish: Finish) -> None:
        s3: Any = self.core.aws.s3(place)
        if preparation.kind == Kind.REVERT:
            verdicts = self._dry_run(preparation, place, window_actions(s3, preparation), halt)
        else:
            assert preparation.key is not None
            then = items_then(s3, preparation)
            now = live_items(self.core, place, preparation.table_name, preparation.key)
            verdicts = judged_locally(key_actions(preparation.schema, preparation.key, then, now), preparation.schema)
        self.store.set_actions(preparation.id, verdicts)
        self.store.update(preparation.id, counts=counts(verdicts))
        preparation = replace(preparation, counts=counts(verdicts))
        if preparation.kind == Kind.ITEM:
            with finish() as connection:
                self.store.finish(preparation.id, connection, state=State.ANSWERED)
            return
        request = self._requests.find(preparation.id) or self._requests.make(preparation)
        with finish() as connection:
            self.store.finish(preparation.id, connection, state=State.REQUESTED, request_id=request.id)

    def _dry_run(
        self, preparation: Preparation, place: Place, actions: list[RepairAction], halt: threading.Event
    ) -> Verdicts:
        """What the revert would do to each changed key now, reading them in batches."""
        aws = self.core.aws
        endpoint = DynamoDbEndpoint.of(aws.dynamodb(place), aws.session(place).get_credentials())
        writer = ConditionalWriter(endpoint, preparation.table_name, preparation.schema, halt=halt)
        verdicts: Verdicts = []
        try:
            for start in range(0, len(actions), MAX_READ_KEYS):
                batch = actions[start : start + MAX_READ_KEYS]
                verdicts.extend(zip(batch, (j.outcome for j in writer.dry_run(batch)), strict=True))
        finally:
            writer.close()
        return verdicts

    def _fail(self, preparation: Preparation, reason: str, finish: Finish) -> None:
        with finish() as connection:
            self.store.finish(preparation.id, connection, state=State.FAILED, failure=reason)
        logger.info("recovery.preparation_failed", extra={"preparation": preparation.id, "kind": preparation.kind})
