"""What planning checks about the exports a restore applies, beyond each one being readable: that each export the
bot recorded is still what it recorded, that a chain of exports leaves no hole, and what approvers must be told
about where the exports come from (another account, another table).

An export's checksum files sit beside its data, so whoever can rewrite a data file can recompute its checksums
too; the bot's own record (bot.exports.reference), taken when the export completed, is what tells. A chain with a
hole loses every change made only inside it (an item deleted there stays), and leaves the table in a state that
never existed; the hole is found with the one chain rule the schedules use (bot.exports.chain).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.aws.accounts import Place
from bot.aws.tables import TableRef
from bot.errors import PreconditionFailed
from bot.exports.chain import Window, reach
from bot.exports.files import manifest_changes
from bot.exports.reference import ExportReference
from bot.models import MAX_INCREMENTAL_WINDOW, MIN_INCREMENTAL_WINDOW, ExportType
from bot.restores.sources import ResolvedExport
from bot.timefmt import iso

RECORD_BASIS = "the bot's record of the export, taken when it completed"


class ExportChangedSinceRecorded(PreconditionFailed):
    """An export's manifests differ from the bot's record of them: its files were rewritten after it completed."""


class BrokenChain(PreconditionFailed):
    """The exports of an `into=` restore leave a window nothing covers."""


def checked_against_record(source: ResolvedExport, reference: ExportReference | None) -> ResolvedExport:
    """The source, refused when its manifests (read at planning time) differ from the bot's record of the export,
    and promising the item count of that record when it has one. Without a record the source is returned as is."""
    if reference is None or source.manifest is None:
        return source
    if source.manifest.checksum != reference.checksum:
        changed = manifest_changes(reference.checksum, source.manifest.checksum)
        parts = " and ".join("its data files (it has no manifests)" if p == "listing" else p for p in changed)
        raise ExportChangedSinceRecorded(
            f"Export `{source.export_id}` was changed after it completed: {parts} no longer match the bot's record "
            f"of {iso(reference.recorded_at)}, so its files are not the ones DynamoDB wrote (someone rewrote them, "
            "checksums included). Nothing was asked.",
            f"`/ddb-verify {source.export_id}` names the files that differ. Restore from another export, and find "
            "out who can write to the bucket.",
        )
    if reference.item_count is None:
        return source
    return replace(source, item_count=reference.item_count, count_basis=RECORD_BASIS)


def require_contiguous_chain(ordered: list[ResolvedExport]) -> None:
    """Refuse exports that, applied in order, skip a window: from the full export's time (the first incremental's
    start without one) each incremental must start at or before the point the ones before it reached. An
    incremental that ends before the full export is refused too: applied first, it would leave behind items deleted
    before the full export."""
    fulls = [s for s in ordered if s.export_type == ExportType.FULL and s.moment is not None]
    windows = {s.export_id: s.window for s in ordered if s.export_type == ExportType.INCREMENTAL and s.window}
    if not windows:
        return
    start = _utc(fulls[0].moment) if fulls else min(_utc(w[0]) for w in windows.values())
    for source in ordered:
        window = windows.get(source.export_id)
        if window is not None and fulls and _utc(window[1]) < start:
            raise BrokenChain(
                f"Incremental export `{source.export_id}` ({_span(window)}) ends before full export "
                f"`{fulls[0].export_id}` ({iso(fulls[0].moment)}): applied first, it would bring back items deleted "
                "before the full export. Nothing was asked.",
                "Leave it out: the full export already holds every change it has.",
            )
    spans = [(_utc(m), _utc(m)) for s in fulls[1:] if (m := s.moment)]
    spans += [(_utc(w[0]), _utc(w[1])) for w in windows.values()]
    gaps = reach(start, spans).gaps
    if gaps:
        raise BrokenChain(_gap_message(gaps), _gap_fix(ordered, gaps))


def foreign_notes(sources: list[ResolvedExport]) -> list[str]:
    """Exports whose manifest names a table in an account the bot cannot reach (copied from another account)."""
    return [
        f"Export `{source.export_id}` is of table `{source.table_name}` in account {source.foreign_account}, which "
        "the bot cannot read: its settings are not carried over, and its key schema comes from the export's record "
        "or `key=`."
        for source in sources
        if source.foreign_account
    ]


def other_table_notes(sources: list[ResolvedExport], target: TableRef, place: Place) -> list[str]:
    """Exports of another table (or of a table in another account) than the one written into: said plainly, since
    it is rarely what anyone means."""
    here = (target.name, place.alias)
    tables = sorted(
        {
            name
            for s in sources
            if s.table_name and (name := s.table_named)
            if (s.table_name, s.source_place.alias if s.source_place else s.foreign_account) != here
        }
    )
    if not tables:
        return []
    named = ", ".join(f"`{name}`" for name in tables)
    return [
        f"The source table differs from the target: the export(s) are of {named}, and their items are written into "
        f"`{target.display}`."
    ]


def _gap_message(gaps: tuple[Window, ...]) -> str:
    shown = ", ".join(_span(gap) for gap in gaps[:3]) + (f" and {len(gaps) - 3} more" if len(gaps) > 3 else "")
    return (
        f"The exports leave a gap: nothing covers {shown}. Everything that changed only then would be lost (an item "
        "deleted then would stay) and the table would end in a state that never existed. Nothing was asked."
    )


def _gap_fix(ordered: list[ResolvedExport], gaps: tuple[Window, ...]) -> str:
    table = next((s.table_named for s in ordered if s.table_named), None) or "<table>"
    commands = [command for gap in gaps[:3] for command in _fill_commands(table, gap)]
    return (
        f"Export the missing window ({' then '.join(f'`{c}`' for c in commands[:4])}), then ask again with that "
        "export among the others."
    )


def _fill_commands(table: str, gap: Window) -> list[str]:
    """`/ddb-export` commands covering the gap: windows of at most 24 hours, at least 15 minutes (an overlap with
    the next export is harmless: applied in order, each item ends as its newest image says)."""
    commands = []
    start, end = gap
    while start < end:
        stop = min(end, start + MAX_INCREMENTAL_WINDOW)
        stop = max(stop, start + MIN_INCREMENTAL_WINDOW)
        commands.append(f"/ddb-export {table} since={iso(start)} until={iso(stop)}")
        start = stop
    return commands


def _span(window: tuple[datetime, datetime]) -> str:
    return f"{iso(window[0])} to {iso(window[1])}"


def _utc(moment: datetime | None) -> datetime:
    """Times compared in UTC (a time read back from SQLite may have lost its zone: it was stored as UTC)."""
    assert moment is not None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
