"""Block Kit for a restore's plan summary (bot.restores.summary): the one rendering of what an approver decides on,
used by the approval message and by the App Home tab alike.

The lines an approver must see (target, mode, expiry, write rate, requester, plan hash, foreign buckets) come first,
in their own block, so no number of sources or length of names can push them out; then what could not be verified
and what planning found; then the estimate and the sources, summarised when they do not fit.
"""

from __future__ import annotations

from bot.models import ExportType
from bot.restores.models import SourceSummary
from bot.restores.summary import PlanSummary
from bot.timefmt import duration, iso, size
from handlers.kit.blocks import FOREIGN_TEXT, SECTION_TEXT, Block, code, context, escape, listing, mention_user, section

BUCKET_TEXT = 900  # the bucket lines' share of the must-see block


def plan_summary_blocks(summary: PlanSummary, *, with_expiry: bool) -> list[Block]:
    """Must-see lines, warnings, then the figures and sources (at most five blocks)."""
    return [section(_must_see(summary, with_expiry)), *_warnings(summary), *_details(summary)]


def _must_see(summary: PlanSummary, with_expiry: bool) -> str:
    """What an approver must read before deciding; every line is bounded, so the block is well under 3,000."""
    lines = [
        f"*Target:* {code(summary.target, 600)} ({escape(summary.region, 100)})",
        f"*Mode:* {escape(summary.mode, FOREIGN_TEXT)}",
    ]
    if with_expiry:
        lines.append(f"*Expires:* {iso(summary.expires_at)}")
    if summary.write_rate:
        lines.append(f"*Write rate:* {escape(summary.write_rate, 300)}")
    lines += [f"*Requested by:* {mention_user(summary.requested_by)}", f"*Plan hash:* {code(summary.plan_hash[:12])}"]
    buckets = [_bucket_line(bucket, owner) for bucket, owner in summary.buckets]
    if buckets:
        lines.append(listing(buckets, "buckets", BUCKET_TEXT))
    return "\n".join(lines)


def _bucket_line(bucket: str, owner: str | None) -> str:
    """Where S3 URL sources live: anyone can write a manifest, so the bucket and its owner are must-see."""
    checked = (
        f"owned by account {code(owner, 20)} (S3 refuses every read if another account owns it)"
        if owner
        else "a configured export bucket; no owner configured, so its owner is not checked"
    )
    return (
        f"*Read from bucket:* {code(bucket, 100)}, {checked}. The table, export id and item count shown for it "
        "come from that bucket's own manifest-summary.json."
    )


def _warnings(summary: PlanSummary) -> list[Block]:
    """What could not be checked about the exports' files, and what planning found, before the figures."""
    blocks = []
    warnings = (
        (":warning: *Not verified:*", summary.unverified, "reasons"),
        (":warning: *Check:*", summary.notes, "notes"),
    )
    for head, reasons, noun in warnings:
        if reasons:
            lines = [f"• {escape(reason, FOREIGN_TEXT)}" for reason in reasons]
            blocks.append(section(head + "\n" + listing(lines, noun, SECTION_TEXT - len(head) - 1)))
    return blocks


def _details(summary: PlanSummary) -> list[Block]:
    """The estimate and the sources (summarised when they do not fit), then what the estimate is based on."""
    estimate = summary.estimate
    lines = []
    if estimate is not None:
        lines.append(
            f"*Estimated cost:* {escape(estimate.cost_usd or '—', 100)} · *Estimated duration:* "
            f"{duration(estimate.duration_seconds)}"
        )
    sources = [source_line(s) for s in summary.sources]
    noun = "exports" if any(s.export_id for s in summary.sources) else "sources"
    budget = SECTION_TEXT - sum(len(line) + 1 for line in lines)
    if sources:
        lines.append(listing(sources, noun, budget))
    blocks = [section("\n".join(lines))] if lines else []
    if estimate is not None and estimate.basis:
        blocks.append(context(escape(estimate.basis, FOREIGN_TEXT)))
    return blocks


def source_line(source: SourceSummary) -> str:
    """One source: its table, export, the moment (an incremental's whole window) and its figures."""
    parts = []
    if source.table:
        parts.append(f"table {code(source.table, 600)}")
    if source.export_id:
        kind = "incremental export" if source.export_type == ExportType.INCREMENTAL else "export"
        parts.append(f"{kind} {code(source.export_id, 200)}")
    if source.window_start and source.window_end:
        parts.append(f"changes from {iso(source.window_start)} to {iso(source.window_end)}")
    elif source.export_time:
        parts.append(f"as of {iso(source.export_time)}")
    if source.item_count is not None:
        parts.append(f"{source.item_count:,} items")
    if source.size_bytes is not None:
        parts.append(size(source.size_bytes))
    return "*Source:* " + (" · ".join(parts) if parts else code(source.label))
