"""`/ddb-restore <table> at=<time> into=…|to=…`: the restore request for a table as of a time, chosen by the bot.
Inside the table's PITR window a new table (`to=`) comes from PITR; otherwise, and for an existing table
(`into=`, which PITR cannot write), the catalogue's chain: the full export and the incrementals that restore the
table as of exactly that time. A time the chain does not reach exactly is refused with what stops it, never
silently rounded to another moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.catalog.models import CatalogEntry, Chain, EntrySource
from bot.catalog.service import Catalogue, restore_chain
from bot.errors import PreconditionFailed, UsageError
from bot.restores.models import RestoreMode
from bot.restores.plans import RestoreSpec
from bot.restores.rate import RateRequest
from bot.timefmt import iso


@dataclass(frozen=True)
class AsOfRequest:
    """A table, a time, and the target: `into=` an existing table or `to=` a new one (exactly one)."""

    table: str
    at: datetime
    into: str | None = None
    to: str | None = None
    rate: RateRequest | None = None
    key: tuple[tuple[str, str], ...] = ()
    billing: str | None = None


def spec_as_of(catalogue: Catalogue, request: AsOfRequest) -> RestoreSpec:
    """The restore to request: PITR inside the window for a new table, else the catalogue's chain."""
    core = catalogue.core
    ref, place = core.table(request.table)
    _, window = core.describe(ref, place)
    if request.to is not None and window.contains(request.at):
        return RestoreSpec(RestoreMode.PITR, (request.table,), request.to, billing=request.billing, at=request.at)
    answer = restore_chain(catalogue, request.table, request.at)
    chain = answer.chain
    if chain.full is None or not answer.exact:
        raise _unreachable(request, chain, window.earliest)
    exports = [chain.full, *chain.incrementals]
    sources, owner = tuple(_source(entry) for entry in exports), _owner(exports)
    if request.into is not None:
        return RestoreSpec(RestoreMode.LOAD, sources, request.into, owner=owner, rate=request.rate)
    assert request.to is not None
    if chain.incrementals:
        raise PreconditionFailed(
            f"`{answer.table}` as of {iso(request.at)} needs full export `{chain.full.export_id}` and "
            f"{len(chain.incrementals)} incrementals, and ImportTable (`to=`) creates a table from one full export. "
            "Nothing was requested.",
            f"Create the table, then restore into it: `/ddb-restore {request.table} at={iso(request.at)} "
            f"into=<table>`; or restore as of the full export's time with `to=`.",
        )
    return RestoreSpec(RestoreMode.IMPORT, sources, request.to, request.key, request.billing, owner=owner)


def _source(entry: CatalogEntry) -> str:
    """How a restore names the export: the bot's record by id, a discovered one by its S3 folder."""
    return entry.export_id if entry.source == EntrySource.BOT else entry.location.url


def _owner(exports: list[CatalogEntry]) -> str | None:
    """The owner of the discovered exports' bucket (a restore takes one owner for its S3 URLs)."""
    owners = {e.bucket_owner for e in exports if e.source == EntrySource.BUCKET and e.bucket_owner}
    if len(owners) > 1:
        raise UsageError("The chain's exports lie in buckets of several owners; restore them one by one.")
    return next(iter(owners), None)


def _unreachable(request: AsOfRequest, chain: Chain, pitr_from: datetime | None) -> PreconditionFailed:
    """What stops the catalogue's chain from reaching the time exactly, and the nearest moment it reaches."""
    at = iso(request.at)
    pitr = f" PITR reaches back to {iso(pitr_from)}." if pitr_from and request.to is not None else ""
    if chain.full is None:
        why = "no full export at or before it is catalogued"
    elif chain.gap is not None:
        why = f"no export covers {iso(chain.gap[0])} → {iso(chain.gap[1])}"
    else:
        ends = iso(chain.overshoots.to_time) if chain.overshoots else "later"
        why = f"the incremental export covering it ends at {ends}, and an incremental restores only to its end"
    nearest = f" `at={iso(chain.reaches)}` can be restored." if chain.reaches else ""
    return PreconditionFailed(
        f"`{request.table}` cannot be restored as of {at}: {why}. Nothing was requested.{pitr}",
        f"See `/ddb-catalog {request.table} at={at}`.{nearest}",
    )
