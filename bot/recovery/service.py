"""The recovery commands' use cases: check who asks and what, start the exports (or find the ones the bot has),
record the preparation and queue it as claimed work; say at once what it will take and cost.

Every entry point audits what it did, refusals included; audit entries carry keys and times, never item values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from bot.aws.accounts import Place
from bot.aws.table_info import PitrWindow, TableInfo
from bot.core import Core
from bot.errors import BotError, NotAllowed, NotFound, PreconditionFailed, UsageError
from bot.models import Requester
from bot.recovery.asks import KeyAsk, Started, WindowAsk
from bot.recovery.costs import filtered_export_note, incremental_exports_note, scan_seconds
from bot.recovery.exporting import windows
from bot.recovery.keys import KeySchema, parse_item_key
from bot.recovery.known import chain_before
from bot.recovery.models import Kind, Preparation, Source, State, new_preparation_id
from bot.recovery.sources import start_exports
from bot.recovery.store import RecoveryStore
from bot.recovery.views import ItemView, item_view
from bot.recovery.where import filter_expression
from bot.restores.rate import describe_for_capacity, resolve_ceiling
from bot.timefmt import duration, iso, size

KNOWN_EXPORTS_READ = 500  # the table's newest exports the bot looks through for an older state


class RecoveryPermissions(Protocol):
    """Who may ask (operators) and who may see a request's items besides its requester (approvers)."""

    def require_operator(self, user_id: str, action: str) -> None:
        """Raise NotAllowed, saying whom to ask, unless the user is an operator."""
        ...

    def is_approver(self, user_id: str) -> bool:
        """True when the user may approve restores."""
        ...


class Recoveries:
    """`/ddb-item`, `/ddb-recover`, `/ddb-revert` and the buttons that continue them."""

    def __init__(
        self,
        core: Core,
        store: RecoveryStore,
        permissions: RecoveryPermissions,
        enqueue: Callable[[str], None],
    ) -> None:
        """`enqueue(preparation id)` queues the preparation as claimed work (bot.recovery.work)."""
        self.core = core
        self.store = store
        self._permissions = permissions
        self._enqueue = enqueue

    def look_up(self, ask: KeyAsk, requester: Requester) -> Started:
        """`/ddb-item`: the item or partition as it was at `at`, answered to the requester when ready."""
        return self._audited(requester, "recovery.item", ask.table, lambda: self._keyed(Kind.ITEM, ask, requester))

    def recover(self, ask: KeyAsk, requester: Requester) -> Started:
        """`/ddb-recover`: prepare putting the item or partition back as it was at `at`; the request for approval is
        posted once the state is read."""
        return self._audited(
            requester, "recovery.recover", ask.table, lambda: self._keyed(Kind.RECOVER, ask, requester)
        )

    def revert(self, ask: WindowAsk, requester: Requester) -> Started:
        """`/ddb-revert`: export the window's changes, dry-run the revert, then post the request for approval."""
        return self._audited(requester, "recovery.revert", ask.table, lambda: self._window(ask, requester))

    def restore_version(self, preparation_id: str, requester: Requester) -> Started:
        """The "Restore this version" button: the lookup's state, prepared again as a request (the live item is read
        anew, since it is what the approver must see)."""

        def work() -> Started:
            self._permissions.require_operator(requester.user_id, "request recoveries")
            found = self._preparation(preparation_id)
            if found.kind != Kind.ITEM or found.state != State.ANSWERED:
                raise PreconditionFailed(f"Lookup `{found.id}` has no answer to restore from.")
            clone = replace(
                found,
                id=new_preparation_id(),
                kind=Kind.RECOVER,
                state=State.EXPORTING,
                requested_by=requester.user_id,
                channel_id=requester.channel_id or found.channel_id,
                request_id=None,
                failure=None,
            )
            return self._begin(clone, None, (f"Preparing a request to put {self._subject(clone)} back.",))

        return self._audited(requester, "recovery.restore_version", preparation_id, work)

    def private_view(self, preparation_id: str, user_id: str) -> ItemView:
        """The items of a preparation, with their values: only for its requester and for approvers (audited)."""
        preparation = self._preparation(preparation_id)
        if user_id != preparation.requested_by and not self._permissions.is_approver(user_id):
            self.core.store.audit(user_id, "recovery.view", preparation_id, {}, "refused: not requester or approver")
            raise NotAllowed("Item contents are private: only the requester and approvers may see them.")
        self.core.store.audit(user_id, "recovery.view", preparation_id, {}, "shown")
        return item_view(preparation, self.store.actions(preparation.id, limit=50))

    # ------------------------------------------------------------------------------------------- keyed

    def _keyed(self, kind: Kind, ask: KeyAsk, requester: Requester) -> Started:
        self._permissions.require_operator(requester.user_id, "look up or recover items")
        ref, place = self.core.table(ask.table)
        info, window = self.core.describe(ref, place)
        schema = _schema(info)
        key = parse_item_key(ask.key, schema)
        preparation = self._new(kind, requester, ask.table, info, place, schema, key=key, at=ask.at)
        subject = f"{key.text} of `{info.ref.display}`"
        if window.enabled and window.contains(ask.at):
            rates = self.core.rates(place)
            lines = (
                f"Exporting {subject} as of {iso(ask.at)} (a full export filtered to that key, started now; "
                "usually a few minutes).",
                filtered_export_note(rates, info.size_bytes),
            )
            return self._begin(preparation, info, lines)
        latest = window.latest if window.enabled else None
        if latest is not None and ask.at > latest:
            raise PreconditionFailed(
                f"`at={iso(ask.at)}` is after the latest time DynamoDB can export ({iso(latest)}, a few minutes ago).",
                "Pick a time at or before it; the item as it is now is what `/ddb-item` shows beside it.",
            )
        return self._from_known_exports(preparation, info, window, subject)

    def _from_known_exports(
        self, preparation: Preparation, info: TableInfo, window: PitrWindow, subject: str
    ) -> Started:
        assert preparation.at is not None
        chain = chain_before(
            self.core.store.recent_exports(info.ref.key, limit=KNOWN_EXPORTS_READ), info.arn, preparation.at
        )
        pitr = f"the PITR window starts at {iso(window.earliest)}" if window.enabled else "PITR is off"
        if chain is None:
            raise PreconditionFailed(
                f"`at={iso(preparation.at)}` is outside what DynamoDB can export ({pitr}), and no finished export the "
                f"bot knows of `{info.ref.display}` is that old. Nothing was started.",
                "Pick a later time, or name an export the bot made (`/ddb-status " + info.ref.display + "`).",
            )
        preparation = replace(preparation, source=Source.EXPORTS, as_of=chain.as_of, exports=chain.recovery_exports())
        seconds = scan_seconds(chain.billed_bytes)
        incrementals = len(chain.exports) - 1
        lines = (
            f"`at={iso(preparation.at)}` is older than DynamoDB can export ({pitr}). Scanning the bot's exports for "
            f"{subject}: a full export of {iso(chain.exports[0].export_time)}"
            + (f" and {incrementals} incremental(s)" if incrementals else "")
            + f", {size(chain.billed_bytes)} of data: about {duration(max(seconds, 1))} on one core.",
            f"The state shown will be as of {iso(chain.as_of)}: the latest time at or before `at` that the exports "
            "reach (an export gives the state at its own time only).",
        )
        return self._begin(preparation, None, lines)

    # ------------------------------------------------------------------------------------------ window

    def _window(self, ask: WindowAsk, requester: Requester) -> Started:
        self._permissions.require_operator(requester.user_id, "revert changes")
        ref, place = self.core.table(ask.table)
        info, window = self.core.describe(ref, place)
        if ask.since >= ask.until:
            raise UsageError(f"`since={iso(ask.since)}` must be before `until={iso(ask.until)}`.")
        if not window.enabled:
            raise PreconditionFailed(
                f"Point-in-time recovery is off for `{info.ref.display}`: DynamoDB exports a window's changes only "
                "from PITR. Nothing was started.",
                f"Turn it on with `/ddb-pitr {info.ref.display} enable`; changes made before that cannot be exported.",
            )
        for name, moment in (("since", ask.since), ("until", ask.until)):
            if not window.contains(moment):
                raise PreconditionFailed(
                    f"`{name}={iso(moment)}` is outside the PITR window of `{info.ref.display}` "
                    f"({iso(window.earliest)} to {iso(window.latest)}). Nothing was started.",
                    "Both ends of the window must lie inside it; the latest end is a few minutes ago.",
                )
        count = len(windows(ask.since, ask.until))
        if ask.where:
            filter_expression(ask.where)  # refused now, with what to fix, rather than by the export later
        ceiling = None
        if ask.rate is not None:
            client = self.core.aws.dynamodb(place)
            ceiling = resolve_ceiling(ask.rate, describe_for_capacity(client, info.name, place))
        preparation = self._new(
            Kind.REVERT,
            requester,
            ask.table,
            info,
            place,
            _schema(info),
            since=ask.since,
            until=ask.until,
            where=ask.where,
            rate=ceiling.as_dict() if ceiling else None,
        )
        lines = (
            f"Exporting the changes to `{info.ref.display}` from {iso(ask.since)} to {iso(ask.until)}"
            + (f" where {ask.where}" if ask.where else "")
            + f" ({count} incremental export(s), both images). Then a dry run reads each changed item as it is now, "
            "and the request, with what it would put back, delete and leave alone, is posted for approval.",
            incremental_exports_note(self.core.rates(place), count),
        )
        return self._begin(preparation, info, lines)

    # --------------------------------------------------------------------------------------- helpers

    def _new(
        self,
        kind: Kind,
        requester: Requester,
        table: str,
        info: TableInfo,
        place: Place,
        schema: KeySchema,
        **fields: object,
    ) -> Preparation:
        return Preparation(
            id=new_preparation_id(),
            kind=kind,
            state=State.EXPORTING,
            source=Source.PITR,
            requested_by=requester.user_id,
            channel_id=requester.channel_id,
            table=table,
            table_name=info.name,
            table_arn=info.arn,
            account_alias=place.alias,
            region=place.region,
            schema=schema,
            **fields,  # type: ignore[arg-type]
        )

    def _begin(self, preparation: Preparation, info: TableInfo | None, lines: Sequence[str]) -> Started:
        """Record the preparation, start its exports (when it needs new ones) and queue it."""
        stored = self.store.create(preparation)
        if info is not None and stored.source == Source.PITR and not stored.exports:
            try:
                exports = start_exports(self.core, info, stored)
            except BotError as error:
                self.store.update(stored.id, state=State.FAILED, failure=str(error))
                raise
            self.store.update(stored.id, exports=exports)
            stored = replace(stored, exports=exports)
        self._enqueue(stored.id)
        return Started(stored, tuple(lines))

    def _preparation(self, preparation_id: str) -> Preparation:
        found = self.store.get(preparation_id)
        if found is None:
            raise NotFound(f"There is no recovery `{preparation_id}`.")
        return found

    def _subject(self, preparation: Preparation) -> str:
        key = preparation.key.text if preparation.key else "the items"
        return f"{key} of `{preparation.table}` as of {iso(preparation.as_of or preparation.at)}"

    def _audited(self, requester: Requester, action: str, target: str, work: Callable[[], Started]) -> Started:
        parameters = {"channel": requester.channel_id}
        try:
            started = work()
        except BotError as error:
            self.core.store.audit(requester.user_id, action, target, parameters, f"refused: {error}")
            raise
        audit = {**parameters, **_audit_of(started.preparation)}
        self.core.store.audit(requester.user_id, action, target, audit, f"preparing {started.preparation.id}")
        return started


def _schema(info: TableInfo) -> KeySchema:
    if not info.snapshot.get("KeySchema"):
        raise PreconditionFailed(f"DynamoDB did not say the key schema of `{info.ref.display}`.")
    return KeySchema.of_table(info.snapshot)


def _audit_of(preparation: Preparation) -> dict[str, object]:
    """What the audit log keeps: the key (keys are not private), times, the filter and the exports; no item value."""
    return {
        "preparation": preparation.id,
        "kind": preparation.kind,
        "key": preparation.key.text if preparation.key else None,
        "at": iso(preparation.at) if preparation.at else None,
        "since": iso(preparation.since) if preparation.since else None,
        "until": iso(preparation.until) if preparation.until else None,
        "where": preparation.where,
        "exports": [e.arn for e in preparation.exports],
    }
