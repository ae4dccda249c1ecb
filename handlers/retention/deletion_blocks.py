"""Block Kit for early deletions: the approval message (what will be deleted first: the export, its time, size and
object count; deletion cannot be undone), the same message once decided, and how the deletion ended."""

from __future__ import annotations

from bot.retention.models import DeletionRequest, DeletionState
from bot.timefmt import size
from handlers.kit import emoji
from handlers.kit.blocks import Message, button, code, confirm_dialog, context, escape, message, section
from handlers.kit.text import channel, plural, user, when

APPROVE_ACTION = "retention_delete_approve"
REJECT_ACTION = "retention_delete_reject"
STATE_LINE = {
    DeletionState.APPROVED: f"{emoji.OK} Approved: the files are being deleted",
    DeletionState.REJECTED: f"{emoji.REFUSED} Rejected: nothing is deleted",
    DeletionState.EXPIRED: f"{emoji.EXPIRED} Expired: nothing is deleted",
    DeletionState.DELETED: f"{emoji.REMOVED} Deleted",
    DeletionState.PARTIAL: f"{emoji.WARN} Deleted in part",
    DeletionState.FAILED: f"{emoji.FAIL} Not deleted",
}


def deletion_request(request: DeletionRequest) -> Message:
    """What approvers see, with Approve (confirmed: it cannot be undone) and Reject bound to what will be deleted."""
    approve = button(
        "Approve deletion",
        APPROVE_ACTION,
        request.button_value,
        style="danger",
        confirm=confirm_dialog(
            "Delete this export?",
            f"{escape(what_line(request), 200)} It cannot be undone.",
            "Delete",
            "Cancel",
        ),
    )
    reject = button("Reject", REJECT_ACTION, request.button_value)
    return message(
        f"Deletion request {escape(request.id, 20)} from {user(request.requested_by)}: "
        f"{escape(what_line(request), 600)}",
        *_described(request, f"{emoji.APPROVAL} *Delete an export early?*"),
        {"type": "actions", "block_id": f"deletion_{request.id}", "elements": [approve, reject]},
    )


def deletion_settled(request: DeletionRequest) -> Message:
    """The same message once decided or done: no buttons, who decided and when, how it ended."""
    state = STATE_LINE.get(request.state, escape(request.state, 20))
    who = (
        f" by {user(request.decided_by)} at {when(request.decided_at)}"
        if request.decided_by and request.state != DeletionState.EXPIRED
        else ""
    )
    blocks = _described(request, f"*{state}*{who}")
    if request.outcome:
        blocks.append(section(escape(request.outcome, 2000)))
    return message(f"Deletion request {escape(request.id, 20)}: {state}", *blocks)


def deletion_asked(request: DeletionRequest) -> Message:
    """The requester's answer: asked, where, until when."""
    where = channel(request.approval_channel) if request.approval_channel else "the approval channel"
    text = (
        f"{emoji.APPROVAL} Deletion request {code(request.id, 20)} posted in {where}: an approver other than you must "
        f"approve it before {when(request.expires_at)}. {escape(what_line(request), 600)}"
    )
    return message(text, section(text))


def what_line(request: DeletionRequest) -> str:
    """The export, its time, size and object count, in plain words (escaped where shown)."""
    kind = "incremental" if request.export_type.upper() == "INCREMENTAL" else "full"
    moment = request.export_time.strftime("%Y-%m-%dT%H:%M:%SZ") if request.export_time else "an unknown time"
    return (
        f"{kind} export {request.export_id} of {request.table_key} (as of {moment}): "
        f"{plural(request.object_count, 'object')}, {size(request.size_bytes)}"
    )


def _described(request: DeletionRequest, head: str) -> list[dict[str, object]]:
    kind = "Incremental" if request.export_type.upper() == "INCREMENTAL" else "Full"
    lines = [
        head,
        f"{kind} export {code(request.export_id, 140)} of {code(request.table_key, 600)}, as of "
        f"{when(request.export_time)}",
        f"{plural(request.object_count, 'object')}, {size(request.size_bytes)}, at "
        f"{code(f's3://{request.bucket}/{request.folder}', 1100)}",
    ]
    return [
        section("\n".join(lines)),
        context(
            f"Asked by {user(request.requested_by)}; deletion cannot be undone. Decide before "
            f"{when(request.expires_at)}."
        ),
    ]
