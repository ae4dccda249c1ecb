"""The console's forms read the bot's own modals (Restore…, Schedule exports) and send back the state Slack would."""

from __future__ import annotations

import pytest

from bot.demo.forms import Form, FormRefused
from handlers.coverage.schedule_form import schedule_form
from handlers.restores.form_blocks import restore_form

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/01796677262438-56ba0269"


def restore() -> Form:
    return Form.of("V1", "U0ALICE", restore_form(ARN, "C0OPS"))


def test_the_restore_form_has_its_four_fields_with_their_initial_values() -> None:
    form = restore()

    assert [(f.number, f.block_id, f.kind, f.optional) for f in form.fields] == [
        (1, "restore_target", "plain_text_input", False),
        (2, "restore_mode", "radio_buttons", False),
        (3, "restore_key", "plain_text_input", True),
        (4, "restore_billing", "static_select", True),
    ]
    assert [f.value for f in form.fields] == [None, "to", None, "on-demand"]
    assert (form.title, form.submit_label, form.close_label) == ("Restore an export", "Ask for approval", "Cancel")
    assert form.callback_id == "restore_form" and ARN in form.private_metadata


def test_the_state_sent_is_slacks_shape_for_each_element_type() -> None:
    form = restore()
    form.field(1).choose("orders-copy")
    form.field(2).choose("2")
    form.field(4).choose("provisioned")

    values = form.state_values()

    assert values["restore_target"] == {"value": {"type": "plain_text_input", "value": "orders-copy"}}
    assert values["restore_key"] == {"value": {"type": "plain_text_input", "value": None}}
    mode = values["restore_mode"]["value"]
    assert mode["type"] == "radio_buttons" and mode["selected_option"]["value"] == "into"
    billing = values["restore_billing"]["value"]
    assert billing["selected_option"] == {
        "text": {"type": "plain_text", "text": "Provisioned", "emoji": True},
        "value": "provisioned",
    }


@pytest.mark.parametrize("typed", ["2", "provisioned", "Provisioned", "prov"])
def test_a_choice_is_taken_by_its_number_value_label_or_a_unique_start(typed: str) -> None:
    form = restore()
    form.field(4).choose(typed)
    assert form.field(4).value == "provisioned"


def test_a_choice_that_is_not_offered_is_refused_naming_the_choices() -> None:
    form = restore()
    with pytest.raises(FormRefused, match=r"1\) On-demand, 2\) Provisioned"):
        form.field(4).choose("3")
    with pytest.raises(FormRefused, match="fields"):
        form.field(9)
    assert form.field(4).value == "on-demand"


def test_required_fields_left_empty_are_missing_and_optional_ones_are_not() -> None:
    form = restore()
    assert [f.block_id for f in form.missing()] == ["restore_target"]
    form.field(1).choose("orders-copy")
    assert form.missing() == []
    form.field(1).choose("  ")
    assert [f.block_id for f in form.missing()] == ["restore_target"]


def test_the_schedule_form_is_prefilled_and_its_errors_show_under_their_field() -> None:
    form = Form.of("V2", "U0ALICE", schedule_form("orders", "C0OPS", "acme-ddb-backups"))
    assert [f.value for f in form.fields] == ["0 2 * * *", "full", "acme-ddb-backups"]

    form.errors = {"schedule_cron": '`cron="every night"` has 2 fields, not 5.'}
    lines = form.lines("alice")

    assert lines[0] == "┌─ Schedule exports ─ a form only alice sees"
    cron = next(i for i, line in enumerate(lines) if line.startswith("│ {1} When (cron, UTC): [0 2 * * *]"))
    assert '⚠ `cron="every night"` has 2 fields' in lines[cron + 1]
    assert "(•) Full export" in lines[cron + 2] and "( ) Incremental" in lines[cron + 2]
    assert lines[-1] == "└─ [Add the schedule] :submit    [Cancel] :cancel"
