"""Block Kit for `/ddb-catalog`: a table's exports, and the chain that restores it as of a time (the verdict first:
which time it reaches, or the gap). Pure builders; every id, key, URL and S3-supplied text is escaped here."""

from __future__ import annotations

from bot.catalog.models import CatalogEntry, Discovery, EntrySource, Listing, Proof, RestoreChain
from bot.models import ExportStatus, ExportType
from bot.timefmt import iso, size
from handlers.kit import emoji
from handlers.kit.blocks import Block, Message, button, code, context, escape, listing, message, section
from handlers.kit.text import plural, when
from handlers.restores.form_blocks import BUTTON_VALUE, OPEN_FORM_ACTION, chain_source

ICON = {ExportStatus.COMPLETED: emoji.OK, ExportStatus.FAILED: emoji.FAIL}
NOTES_SHOWN = 3  # unreadable summaries named one by one; the rest are counted


def catalog_listing(found: Listing) -> Message:
    """Every export of a table, newest first: what does not fit is counted, not cut."""
    table = code(found.table, 600)
    if not found.entries:
        head = f"*Catalogue of {table}*\nNo exports found, neither in the bot's records nor in its export buckets."
        return message(f"Catalogue of {escape(found.table, 600)}: no exports", section(head), _notes(found.discovery))
    oldest = min((e.as_of for e in found.entries if e.as_of), default=None)
    head = f"*Catalogue of {table}*: {plural(len(found.entries), 'export')}" + (
        f", back to {when(oldest)}" if oldest else ""
    )
    lines = [entry_line(entry, found.proofs.get(entry.export_id)) for entry in found.entries]
    return message(
        f"Catalogue of {escape(found.table, 600)}: {plural(len(found.entries), 'export')}",
        section(head),
        section(listing(lines, "exports")),
        _notes(found.discovery),
    )


def chain_message(answer: RestoreChain) -> Message:
    """The exports that restore a table as of a time: the verdict, then the full export, then the incrementals."""
    chain, proofs = answer.chain, answer.proofs
    blocks = [section(_verdict(answer))]
    if chain.full is not None:
        blocks.append(section("*Full export:*\n" + entry_line(chain.full, proofs.get(chain.full.export_id))))
    if chain.incrementals:
        lines = [entry_line(e, proofs.get(e.export_id)) for e in chain.incrementals]
        title = f"*Then {plural(len(chain.incrementals), 'incremental export')}, in order:*\n"
        blocks.append(section(title + listing(lines, "incremental exports", 3000 - len(title))))
    if answer.exact:
        blocks.append(_restore_offer(answer))
    blocks.append(_notes(answer.discovery))
    return message(f"{escape(answer.table, 600)} as of {iso(answer.at)}", *blocks)


def _restore_offer(answer: RestoreChain) -> Block:
    """Restore… opens the restore form for the table as of the time (an operator's; another person approves);
    the command is shown too, for those who prefer typing it."""
    source = chain_source(answer.table, answer.at)
    command = code(f"/ddb-restore {source} into=<existing table>", 800)
    offer = section(f"Restore it (after a second person approves): {command}")
    if len(source) > BUTTON_VALUE:  # no table name and time come near it; the command still works
        return offer
    return {**offer, "accessory": button("Restore…", OPEN_FORM_ACTION, source)}


def _verdict(answer: RestoreChain) -> str:
    chain, table, at = answer.chain, code(answer.table, 600), when(answer.at)
    if chain.full is None:
        earliest = f" The earliest full export is from {when(chain.earliest_full)}." if chain.earliest_full else ""
        return (
            f"{emoji.FAIL} No full export of {table} at or before {at} is catalogued, and a restore starts from one."
            f"{earliest}"
        )
    count = len(chain.incrementals)
    parts = f"full export {code(chain.full.export_id, 200)}" + (f" and {plural(count, 'incremental')}" if count else "")
    if answer.exact:
        return f"{emoji.OK} {table} can be restored as of {at}: {parts}."
    reaches = f"The nearest point the exports reach at or before it is {when(chain.reaches)}: {parts}."
    if chain.gap is not None:
        gap = f"{when(chain.gap[0])} → {when(chain.gap[1])}"
        return f"{emoji.WARN} {table} cannot be restored as of {at}: no export covers {gap}. {reaches}"
    overshoot = chain.overshoots
    window = f"{when(overshoot.from_time)} → {when(overshoot.to_time)}" if overshoot else ""
    return (
        f"{emoji.WARN} {table} cannot be restored exactly as of {at}: the incremental "
        f"{code(overshoot.export_id if overshoot else '', 200)} covers {window}, and an incremental restores only "
        f"to the end of its window. {reaches}"
    )


def entry_line(entry: CatalogEntry, proof: Proof | None) -> str:
    """One export: what, when, how big, encrypted with what, proved how, found where."""
    icon = ICON.get(entry.status, emoji.RUNNING)
    if entry.export_type == ExportType.INCREMENTAL:
        span = f"incremental {when(entry.from_time)} → {when(entry.to_time)}"
    else:
        span = f"full as of {when(entry.export_time)}"
    figures = f" · {plural(entry.item_count, 'item')}" if entry.item_count is not None else ""
    figures += f" · {size(entry.billed_size_bytes)}" if entry.billed_size_bytes is not None else ""
    status = "" if entry.status == ExportStatus.COMPLETED else f" · {escape(entry.status, 40)}"
    kms = f" · KMS {code(entry.kms_key, 300)}" if entry.kms_key else ""
    found = " · found in the bucket" if entry.source == EntrySource.BUCKET else ""
    return f"{icon} {code(entry.export_id, 200)} {span}{status}{figures}{kms}{_proof(proof)}{found}"


def _proof(proof: Proof | None) -> str:
    if proof is None:
        return " · not verified, not drilled"
    verified = f"verified {escape(proof.verified, 20)} {when(proof.verified_at)}" if proof.verified else "not verified"
    drilled = f"drilled {escape(proof.drilled, 20)} {when(proof.drilled_at)}" if proof.drilled else "not drilled"
    return f" · {verified} · {drilled}"


def _notes(discovery: Discovery) -> Block:
    """Where discovery looked and what it could not read or list (these may hide exports)."""
    notes = [
        "Looked in "
        + (", ".join(code(url, 300) for url in discovery.looked_in) or "no bucket (none configured)")
        + f": {plural(discovery.new, 'new export')} found."
    ]
    notes += [f"{emoji.WARN} {escape(failure, 600)}" for failure in discovery.failures]
    notes += [
        f"{emoji.WARN} Listing stopped early in {code(url, 300)}; older exports may be missing."
        for url in discovery.cut_short
    ]
    for unreadable in discovery.unreadable[:NOTES_SHOWN]:
        notes.append(f"{emoji.WARN} {code(unreadable.url, 600)} could not be read: {escape(unreadable.problem, 600)}")
    if len(discovery.unreadable) > NOTES_SHOWN:
        notes.append(f"… and {plural(len(discovery.unreadable) - NOTES_SHOWN, 'more unreadable summary')}")
    return context(*notes)
