"""`/ddb-catalog`'s use cases: a table's exports (the bot's records merged with what discovery found in its
buckets), and the chain of them that restores the table as of a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.aws.table_info import describe_table
from bot.catalog.chains import chain_as_of
from bot.catalog.discovery import discover, locations_for
from bot.catalog.models import CatalogEntry, Discovery, Listing, Proof, RestoreChain, entry_of_job
from bot.catalog.store import CatalogStore
from bot.core import Core
from bot.drills.store import DrillStore
from bot.models import export_id_of
from bot.verification.store import VerificationStore

MAX_OWN = 5000  # the bot's own records read per table (years of daily exports and weeks of hourly incrementals)
MAX_PROVED = 50  # entries whose verification and drill are looked up (more than a message lists)
DRILLS_READ = 200


@dataclass(frozen=True)
class Catalogue:
    """What the catalogue's use cases need, built once in bootstrap. `not_backups` gives the ARNs of exports that hold
    part of a table only (a recovery's partition or window of changes): they lie in the same buckets, their summaries
    look like any export's, and a restore chain built on one would bring back a single partition. `gone` gives the
    ids of exports deleted early (/ddb-retention … delete): their files are gone, so nothing offers them any more."""

    core: Core
    store: CatalogStore
    verifications: VerificationStore
    drills: DrillStore
    not_backups: Callable[[], set[str]] = field(default=set)
    gone: Callable[[], set[str]] = field(default=set)


def table_listing(catalogue: Catalogue, table_text: str) -> Listing:
    """Every export of the table the bot knows or finds, newest first, the newest with their proofs."""
    table_key, entries, discovery = _entries(catalogue, table_text)
    return Listing(table_key, tuple(entries), _proofs(catalogue, table_key, entries[:MAX_PROVED]), discovery)


def restore_chain(catalogue: Catalogue, table_text: str, at: datetime) -> RestoreChain:
    """The full export and incrementals that restore the table as of `at`, or what prevents it."""
    table_key, entries, discovery = _entries(catalogue, table_text)
    chain = chain_as_of(entries, at)
    used = [*([chain.full] if chain.full else []), *chain.incrementals][:MAX_PROVED]
    return RestoreChain(table_key, at, chain, _proofs(catalogue, table_key, used), discovery)


def _entries(catalogue: Catalogue, table_text: str) -> tuple[str, list[CatalogEntry], Discovery]:
    """The table's exports: discovery first (so what it finds is listed), then the bot's records, which win over
    a discovered summary of the same export (the KMS key is taken from the summary when the record has none)."""
    core = catalogue.core
    ref, place = core.table(table_text)
    info = describe_table(core.aws.dynamodb(place), ref, place)
    discovery = discover(core, catalogue.store, place, locations_for(core, ref.key, table_text))
    partial = {export_id_of(arn) for arn in catalogue.not_backups()}
    gone = catalogue.gone()
    merged = {
        entry.export_id: entry
        for entry in catalogue.store.entries(info.arn)
        if entry.export_id not in partial and entry.export_id not in gone
    }
    for job in core.store.recent_exports(ref.key, limit=MAX_OWN):
        if job.export_id in gone:
            continue
        own, found = entry_of_job(job), merged.get(job.export_id)
        merged[job.export_id] = replace(own, kms_key=own.kms_key or (found.kms_key if found else None))
    ordered = sorted(merged.values(), key=lambda e: (e.as_of is not None, e.as_of or datetime.min), reverse=True)
    return ref.key, ordered, discovery


def _proofs(catalogue: Catalogue, table_key: str, entries: list[CatalogEntry]) -> dict[str, Proof]:
    """The newest verification and drill of each entry."""
    drills: dict[str, Proof] = {}
    for drill in catalogue.drills.history(table_key, DRILLS_READ):  # newest first: the first seen stands
        if drill.spec.export is not None:  # a PITR drill proves the export it was compared with, if any
            drills.setdefault(drill.spec.export.export_id, Proof(drilled=drill.status, drilled_at=drill.finished_at))
    proofs = {}
    for entry in entries:
        verification = catalogue.verifications.last_for_export(entry.export_id)
        drilled = drills.get(entry.export_id, Proof())
        if verification is not None or drilled.drilled is not None:
            proofs[entry.export_id] = replace(
                drilled,
                verified=verification.status if verification else None,
                verified_at=verification.finished_at if verification else None,
            )
    return proofs
