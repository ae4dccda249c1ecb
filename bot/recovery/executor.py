"""RECOVER and REVERT requests run: the approved actions written by the conditional writer, a batch at a time, each
batch's outcomes recorded as the run's checkpoint, paced by `rate=` like the loader, with progress reports.

Before the first write the actions are checked against the plan's digest (a change after approval refuses the run).
A run taken over after a crash continues with the keys not yet judged; a batch written but not yet recorded is judged
again, and its writes meet their own results (UNCHANGED), so nothing is written twice.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.background.claims import ClaimLost
from bot.errors import PreconditionFailed
from bot.loader.batch_writer import RetryPolicy
from bot.loader.endpoint import DynamoDbEndpoint
from bot.loader.pacing import PacingPolicy, WriteRateController
from bot.recovery.actions import Outcome, actions_digest
from bot.recovery.keys import KeySchema
from bot.recovery.store import RecoveryStore
from bot.recovery.writer import ConditionalWriter, Judged, RepairCancelled
from bot.restores.executors import Cancelled, ExecutorContext
from bot.restores.models import RestoreRequest
from bot.restores.notify import RestoreOutcome, RestoreProgress
from bot.restores.outcome import ItemsDone, ItemsPromised
from bot.restores.repairs import RepairOptions

BATCH = 100  # keys read together (BatchGetItem's limit) and recorded together
PAGE = 2000  # pending actions read from the store at once
LISTED = 20  # conflicts and refusals named in the report


@dataclass
class _Progress:
    started: float
    total: int
    judged: int = 0
    reported_at: float = 0.0


class RepairExecutor:
    """Runs repairs; `concurrency` batches are written at once, each by its own thread."""

    def __init__(self, store: RecoveryStore, concurrency: int = 4, retry_seconds: float = 300.0) -> None:
        self._store = store
        self._concurrency = concurrency
        self._retry = RetryPolicy(give_up_after_s=retry_seconds)

    def resume_note(self, context: ExecutorContext, request: RestoreRequest) -> str:
        """How far an earlier run got: judged keys are not written again."""
        options = request.plan.options_as(RepairOptions)
        tally = self._store.tally(options.preparation)
        judged = sum(count for outcome, count in tally.items() if outcome != Outcome.PENDING)
        return (
            f"Resumed after a restart: {judged:,} of {options.actions:,} key(s) were already judged and are not "
            "written again; continuing with the rest (every write is conditional, so none lands twice)."
        )

    def run(self, context: ExecutorContext, request: RestoreRequest) -> RestoreOutcome:
        """Write every pending action, then report what happened to each key."""
        options = request.plan.options_as(RepairOptions)
        preparation = options.preparation
        pending = self._store.tally(preparation).get(Outcome.PENDING, 0)
        if pending:
            self._require_approved(options)
        started = time.monotonic()
        if pending:
            self._write(context, request, options, _Progress(started, options.actions))
        outcome = self._outcome(options, time.monotonic() - started)
        self._store.forget_images(preparation)  # nothing is pending now, so a resumed run writes nothing
        return outcome

    def _require_approved(self, options: RepairOptions) -> None:
        digest = actions_digest(self._store.each_action(options.preparation))
        if digest != options.actions_digest:
            raise PreconditionFailed(
                "The prepared writes no longer match the approved plan (they were changed after approval); nothing "
                "more was written.",
                "Ask for the recovery again.",
            )

    def _write(
        self, context: ExecutorContext, request: RestoreRequest, options: RepairOptions, progress: _Progress
    ) -> None:
        aws = context.core.aws
        endpoint = DynamoDbEndpoint.of(aws.dynamodb(context.place), aws.session(context.place).get_credentials())
        pacer = WriteRateController(PacingPolicy(ceiling=float(options.ceiling.units))) if options.ceiling else None
        schema = KeySchema.from_dict(options.key_schema)
        writer = ConditionalWriter(
            endpoint, request.plan.target, schema, halt=context.cancel, pacer=pacer, retry=self._retry
        )
        progress.judged = options.actions - self._store.tally(options.preparation).get(Outcome.PENDING, 0)
        try:
            with ThreadPoolExecutor(self._concurrency, thread_name_prefix="repair") as pool:
                while page := self._store.actions(options.preparation, pending=True, limit=PAGE):
                    batches = [page[n : n + BATCH] for n in range(0, len(page), BATCH)]
                    for judged in pool.map(writer.apply, batches):
                        self._checkpoint(context, options.preparation, judged)
                        progress.judged += len(judged)
                        self._report(context, writer, progress)
        except RepairCancelled as stop:
            raise Cancelled from stop
        finally:
            writer.close()

    def _checkpoint(self, context: ExecutorContext, preparation: str, judged: Sequence[Judged]) -> None:
        """The batch's outcomes, recorded only while the claim is held: a runner that lost it records nothing, and
        the new holder judges that batch again (its writes meet their own results)."""
        fence = context.fence
        if fence is None:
            context.check()
            with self._store.engine.begin() as connection:
                self._store.record_outcomes(preparation, judged, connection)
            return
        fence.step("aws_called")
        try:
            with fence.fenced() as connection:
                self._store.record_outcomes(preparation, judged, connection)
        except ClaimLost as lost:
            raise Cancelled from lost
        fence.step("recorded")

    def _report(self, context: ExecutorContext, writer: ConditionalWriter, progress: _Progress) -> None:
        now = time.monotonic()
        if now - progress.reported_at < context.progress_seconds:
            return
        progress.reported_at = now
        elapsed = now - progress.started
        rate = progress.judged / elapsed if elapsed > 0 else None
        left = (progress.total - progress.judged) / rate if rate else None
        context.report(
            RestoreProgress(
                items=progress.judged,
                rate_per_second=rate,
                elapsed_seconds=elapsed,
                eta_seconds=left,
                units_per_second=writer.stats.write_units / elapsed if elapsed > 0 else None,
                throttles=writer.stats.throttles,
                note=f"{progress.judged:,} of {progress.total:,} keys judged",
            )
        )

    def _outcome(self, options: RepairOptions, seconds: float) -> RestoreOutcome:
        """The figures, and for the one outcome check: every key of the plan promised, every key judged done, each
        key left alone a problem (so a repair with conflicts ends PARTIAL, saying which keys and why)."""
        tally = self._store.tally(options.preparation)
        written = tally.get(Outcome.WRITTEN, 0)
        deletes = self._store.tally(options.preparation, deletes=True).get(Outcome.WRITTEN, 0)
        left = self._store.verdicts(
            options.preparation, [Outcome.CONFLICT, Outcome.UNCHECKABLE, Outcome.REFUSED], limit=LISTED
        )
        judged = sum(count for outcome, count in tally.items() if outcome != Outcome.PENDING)
        basis = "key(s) judged: written, already as planned, or left alone"
        return RestoreOutcome(
            items_written=written - deletes,
            deletes_applied=deletes,
            duration_seconds=seconds,
            details={
                "keys": options.actions,
                "unchanged": tally.get(Outcome.UNCHANGED, 0),
                "conflicts": tally.get(Outcome.CONFLICT, 0),
                "uncheckable": tally.get(Outcome.UNCHECKABLE, 0),
                "refused": tally.get(Outcome.REFUSED, 0),
                "left_alone": [{"key": key, "outcome": outcome, "note": note} for key, outcome, note in left],
            },
            promised=ItemsPromised(options.actions, f"the {options.actions:,} key(s) of the approved plan"),
            done=ItemsDone(judged, basis, problems=_problems(tally, left)),
        )


PROBLEMS = {
    Outcome.CONFLICT: "changed after the state the repair goes back to, so left alone (conflicts)",
    Outcome.UNCHECKABLE: "too wide for an exact DynamoDB condition (over 150 attributes), so not written",
    Outcome.REFUSED: "refused by DynamoDB, so not written",
}


def _problems(tally: dict[str, int], left: list[tuple[str, str, str]]) -> tuple[str, ...]:
    """One sentence per kind of key left alone, naming the first keys (keys only, never values)."""
    sentences = []
    for outcome, why in PROBLEMS.items():
        count = tally.get(outcome, 0)
        if count:
            keys = "; ".join(key for key, verdict, _ in left if verdict == outcome)
            sentences.append(f"{count:,} key(s) {why}: {keys}" + (" …" if count > len(keys.split("; ")) else ""))
    return tuple(sentences)
