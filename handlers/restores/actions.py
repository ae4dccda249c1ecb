"""Buttons and the form: Approve, Reject, Restore… (opens a modal) and the modal's submission.

Every click is acknowledged at once; a refused click gets its reason as an ephemeral reply that leaves the
approval message alone. The decision itself edits that message through the notifier.
"""

from __future__ import annotations

import logging
import shlex
import uuid
from collections.abc import Callable, Collection
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.catalog.restore import AsOfRequest
from bot.errors import BotError, NotAllowed, UsageError
from bot.models import Requester
from bot.restores.workflow import Decision
from handlers.kit import emoji
from handlers.kit.blocks import Message, error_message, escape, unexpected_error
from handlers.kit.modals import field_value, tell_submitter, view_metadata
from handlers.kit.slack_port import respond_with
from handlers.restores import blocks as rb
from handlers.restores import form_blocks as fb
from handlers.restores.bulk_blocks import DELETE_TABLE_ACTION
from handlers.restores.commands import RestoreSurface, restore
from handlers.restores.parsing import RestoreCommand, parse_restore

logger = logging.getLogger(__name__)


def register(app: App, restore_surface: RestoreSurface) -> None:
    """Wire the restore buttons and the restore form."""
    restores = restore_surface.restores
    aliases = restore_surface.surface.core.aws.aliases

    @app.action(rb.APPROVE_ACTION)
    def approve_restore(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        _decide(body, respond, restores.approve)

    @app.action(rb.REJECT_ACTION)
    def reject_restore(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        _decide(body, respond, restores.reject)

    @app.action(DELETE_TABLE_ACTION)
    def delete_restored_table(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        request_id = str(body["actions"][0].get("value") or "")
        user = str((body.get("user") or {}).get("id") or "")
        try:
            reply = rb.click_accepted(
                f"{emoji.REMOVED} {escape(restore_surface.control.delete_new_table(request_id, user))}"
            )
        except BotError as error:
            reply = rb.click_refused(error)
        except Exception:
            reference = uuid.uuid4().hex[:8]
            logger.exception("restore.table_deletion_failed", extra={"reference": reference})
            reply = unexpected_error(reference)
        respond_with(respond, reply, "restore click", response_type="ephemeral", replace_original=False)

    @app.action(fb.OPEN_FORM_ACTION)
    def open_restore_form(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        source = str(body["actions"][0].get("value") or "")
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        if not _may_request(restore_surface, body, source, channel, respond):
            return
        view = fb.restore_form(source, channel)
        try:
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except Exception:
            logger.exception("restore.form_not_opened", extra={"source": source[:300]})

    @app.view(fb.FORM_CALLBACK)
    def submit_restore_form(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body.get("view") or {}
        metadata = view_metadata(view.get("private_metadata"))
        user = str((body.get("user") or {}).get("id") or "")
        try:
            values = (view.get("state") or {}).get("values") or {}
            # `export`: a form opened before the catalogue's button existed (an open modal outlives a deploy)
            source = str(metadata.get("source") or metadata.get("export") or "")
            command = form_command(source, values, aliases)
        except UsageError as error:
            ack(response_action="errors", errors={_field_of(error.message): error.message[:150]})
            return
        ack()
        requester = Requester(user, metadata.get("channel"))
        try:
            reply = restore(restore_surface, command, requester).message
        except BotError as error:
            reply = error_message(error)
        except Exception:
            reference = uuid.uuid4().hex[:8]
            logger.exception("restore.form_failed", extra={"reference": reference})
            reply = unexpected_error(reference)
        tell_submitter(client, user, metadata.get("channel"), reply, "restore form")


def _may_request(
    restore_surface: RestoreSurface, body: dict[str, Any], source: str, channel: str | None, respond: Respond
) -> bool:
    """Only operators get the form (its submission is checked again by the workflow); others are told, and audited."""
    user = str((body.get("user") or {}).get("id") or "")
    try:
        restore_surface.surface.authorizer.require_operator(user, "request restores")
    except NotAllowed as refusal:
        audit = {"source": source, "channel": channel}
        restore_surface.surface.core.store.audit(user, "restore.form", source, audit, f"refused: {refusal}")
        respond_with(
            respond, rb.click_refused(refusal), "restore click", response_type="ephemeral", replace_original=False
        )
        return False
    return True


def form_command(source: str, values: dict[str, Any], aliases: Collection[str] = ()) -> RestoreCommand | AsOfRequest:
    """The form's fields written as the equivalent /ddb-restore text, parsed by the same parser (with the account
    aliases, so `prod:orders` is a target here as in the command)."""
    target = field_value(values, fb.FORM_TARGET, fb.FORM_FIELD)
    mode = field_value(values, fb.FORM_MODE, fb.FORM_FIELD) or "to"
    key = field_value(values, fb.FORM_KEY, fb.FORM_FIELD)
    billing = field_value(values, fb.FORM_BILLING, fb.FORM_FIELD)
    if not source:
        raise UsageError("The form lost its export; close it and click Restore… again.")
    if not target:
        raise UsageError("Name the target table.")
    if mode == "into" and key:
        raise UsageError("The key schema only matters for a new table; leave it empty for an existing one.")
    words = [*source.split(), f"{mode}={target}"]
    if mode == "to":
        if key:
            words.append(f"key={key}")
        if billing:
            words.append(f"billing={billing}")
    parsed = parse_restore(" ".join(shlex.quote(w) for w in words), aliases)
    if not isinstance(parsed, RestoreCommand | AsOfRequest):
        raise UsageError("Name the target table.")
    return parsed


def _field_of(message: str) -> str:
    """The form field an error is about, so Slack shows it under that field."""
    lowered = message.lower()
    if "key" in lowered and ("`key=" in lowered or "key schema" in lowered):
        return fb.FORM_KEY
    if "`billing=" in lowered:
        return fb.FORM_BILLING
    return fb.FORM_TARGET


def _decide(body: dict[str, Any], respond: Respond, decide: Callable[[str, str], Decision]) -> None:
    value = str(body["actions"][0].get("value") or "")
    user = str((body.get("user") or {}).get("id") or "")
    try:
        decision = decide(value, user)
    except BotError as error:
        respond_with(
            respond, rb.click_refused(error), "restore click", response_type="ephemeral", replace_original=False
        )
        return
    except Exception:
        reference = uuid.uuid4().hex[:8]
        logger.exception("restore.decision_failed", extra={"reference": reference})
        respond_with(
            respond, unexpected_error(reference), "restore click", response_type="ephemeral", replace_original=False
        )
        return
    respond_with(respond, _confirmation(decision), "restore click", response_type="ephemeral", replace_original=False)


def _confirmation(decision: Decision) -> Message:
    return rb.click_accepted(rb.decision_text(decision))
