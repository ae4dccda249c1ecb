"""The views in the demo console: modals the bot opens (Restore…, Schedule exports) shown as forms to fill and submit,
and the App Home tab, opened as Slack opens it (an `app_home_opened` event) with its buttons clickable.

A submission goes to the bot signed, as Slack sends it; what Slack would do with the answer is done here: errors
(`response_action: errors`) are shown under their fields and the form stays open, `update` and `push` replace or
stack the form, `clear` and an empty answer close it. Required fields left empty are refused before sending, as
Slack's client does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from bot.demo.forms import Form, FormRefused
from bot.demo.render import Button, Rendered, render_view
from bot.demo.slack_requests import SignedSlackClient, SlackHttpResponse
from bot.demo.slack_standin import ShownView

REQUIRED = "Please complete this required field."  # what Slack's client says under an empty required field
HOME_CHANNEL = "D0HOME"


class Screen(Protocol):
    """What the view desk needs of the console: who is acting, printing, recording, numbering buttons."""

    user: str

    def user_name(self, user: str) -> str: ...

    def say(self, text: str) -> None: ...

    def dim(self, text: str) -> str: ...

    def alert(self, text: str) -> str: ...

    def show(self, kind: str, text: str, *, user: str, header: str) -> None: ...

    def render_buttons(self, key: tuple[str, str], render: Callable[[int], Rendered]) -> Rendered: ...

    def show_response(self, response: SlackHttpResponse, not_found: str) -> None: ...

    def ask(self, prompt: str) -> str | None: ...


class ViewDesk:
    """The open forms (a stack, as Slack stacks modals) and each person's Home tab."""

    def __init__(self, screen: Screen, client: SignedSlackClient) -> None:
        self.screen = screen
        self.client = client
        self.forms: list[Form] = []
        self.homes: dict[str, dict[str, Any]] = {}  # user → their Home tab as last published
        self._home_wanted: set[str] = set()  # people who opened their tab or clicked in it: show the next publish

    # -------------------------------------------------------------------------------------- from the bot

    def show(self, shown: ShownView) -> None:
        """A view the bot opened, pushed, updated or published."""
        if shown.method == "views.publish" and shown.user:
            self._home_published(shown.user, shown.view)
            return
        if shown.method == "views.update":
            for index, form in enumerate(self.forms):
                if form.view_id == shown.view_id:
                    self.forms[index] = _carried_over(form, Form.of(shown.view_id, form.user, shown.view))
                    self._show_form(self.forms[index], "modal")
            return
        user = self.client.trigger_user(shown.trigger_id) or self.screen.user
        form = Form.of(shown.view_id, user, shown.view)
        if shown.method == "views.open":
            self.forms.clear()
        self.forms.append(form)
        self._show_form(form, "modal")

    def _home_published(self, user: str, view: dict[str, Any]) -> None:
        self.homes[user] = view
        if user not in self._home_wanted:
            name = self.screen.user_name(user)
            self.screen.say(self.screen.dim(f"({name}'s Home tab changed: `:home` as {name} shows it)"))
            return
        self._home_wanted.discard(user)
        rendered = self.screen.render_buttons(
            ("home", user), lambda first: render_view(view, owner=user, first_button=first)
        )
        header = f"[Home tab of {self.screen.user_name(user)}] ddb-backup-bot"
        self.screen.show("home", rendered.text, user=user, header=header)

    # -------------------------------------------------------------------------------------- the person

    def open_home(self) -> None:
        """Open the App Home tab as the current user: Slack sends `app_home_opened`, the bot publishes the tab."""
        user = self.screen.user
        self._home_wanted.add(user)
        event: dict[str, Any] = {"type": "app_home_opened", "user": user, "channel": HOME_CHANNEL, "tab": "home"}
        if user in self.homes:
            event["view"] = self.homes[user]
        self.screen.show_response(self.client.event(event), "the bot has no listener for app_home_opened")

    def click(self, button: Button) -> SlackHttpResponse | None:
        """Click a button of a Home tab, as its owner."""
        if button.owner and button.owner != self.screen.user:
            owner = self.screen.user_name(button.owner)
            refusal = f"Button [{button.number}] is on {owner}'s Home tab: `:as {owner}` first."
            self.screen.say(self.screen.alert(refusal))
            return None
        view = self.homes.get(button.owner) or {"id": button.view_id, "type": "home", "blocks": []}
        self._home_wanted.add(self.screen.user)
        response = self.client.view_click(
            button.action_id,
            button.value,
            user_id=self.screen.user,
            user_name=self.screen.user_name(self.screen.user),
            view=view,
            block_id=button.block_id,
        )
        self.screen.show_response(response, f"the bot has no listener for action {button.action_id!r}")
        return response

    def current(self) -> Form | None:
        """The form on top, when the current user is the one who sees it (else None, and they are told)."""
        if not self.forms:
            self.screen.say("No form is open. Buttons such as Restore… or Schedule exports open one.")
            return None
        form = self.forms[-1]
        if form.user != self.screen.user:
            owner = self.screen.user_name(form.user)
            self.screen.say(self.screen.alert(f"The open form is {owner}'s: `:as {owner}` first."))
            return None
        return form

    def show_current(self) -> None:
        """`:form`: print the open form again."""
        form = self.current()
        if form is not None:
            self._show_form(form, "modal")

    def set_field(self, number: int, text: str) -> None:
        """`:set N text`: fill one field."""
        form = self.current()
        if form is None:
            return
        try:
            field = form.field(number)
            field.choose(text)
        except FormRefused as refused:
            self.screen.say(self.screen.alert(f"Not filled: {refused}."))
            return
        form.errors.pop(field.block_id, None)
        self.screen.say(self.screen.dim(f"{{{number}}} {field.label}: {field.shown()}"))

    def fill(self) -> None:
        """`:fill`: ask every field in turn (Enter keeps what is there)."""
        form = self.current()
        if form is None:
            return
        for field in form.fields:
            while True:
                answer = self.screen.ask(f"{{{field.number}}} {field.label} {field.shown()}: ")
                if answer is None:
                    return
                if not answer.strip():
                    break
                try:
                    field.choose(answer)
                    break
                except FormRefused as refused:
                    self.screen.say(self.screen.alert(str(refused)))
        self._show_form(form, "modal")

    def cancel(self) -> None:
        """`:cancel`: close the form (the bot's forms do not ask to hear of it, so nothing is sent)."""
        form = self.current()
        if form is not None:
            self.forms.pop()
            self.screen.show("modal_closed", f"Form “{form.title}” closed.", user=form.user, header="")

    def submit(self) -> SlackHttpResponse | None:
        """`:submit`: send the form to the bot and do what its answer says."""
        form = self.current()
        if form is None:
            return None
        missing = form.missing()
        if missing:
            form.errors.update({field.block_id: REQUIRED for field in missing})
            self._show_form(form, "form_errors")
            return None
        response = self.client.view_submission(
            form.callback_id,
            form.state_values(),
            user_id=form.user,
            user_name=self.screen.user_name(form.user),
            private_metadata=form.private_metadata,
            view_id=form.view_id,
            view=form.view,
        )
        if response.status != 200:
            self.screen.show_response(response, f"the bot has no listener for form {form.callback_id!r}")
            return response
        self._answer(form, response)
        return response

    def _answer(self, form: Form, response: SlackHttpResponse) -> None:
        try:
            answer = json.loads(response.body) if response.body.strip() else {}
        except ValueError:
            answer = {}
        action = answer.get("response_action") if isinstance(answer, dict) else None
        if action == "errors":
            form.errors = {str(k): str(v) for k, v in (answer.get("errors") or {}).items()}
            self._show_form(form, "form_errors")
        elif action in {"update", "push"} and isinstance(answer.get("view"), dict):
            replacement = Form.of(form.view_id if action == "update" else f"{form.view_id}+", form.user, answer["view"])
            if action == "update":
                self.forms[-1] = replacement
            else:
                self.forms.append(replacement)
            self._show_form(replacement, "modal")
        else:
            closed = self.forms[:] if action == "clear" else [self.forms[-1]]
            del self.forms[len(self.forms) - len(closed) :]
            self.screen.show("modal_closed", f"Form “{form.title}” submitted and closed.", user=form.user, header="")

    def _show_form(self, form: Form, kind: str) -> None:
        text = "\n".join(form.lines(self.screen.user_name(form.user)))
        self.screen.show(kind, text, user=form.user, header="")


def _carried_over(before: Form, after: Form) -> Form:
    """What the person typed stays in the fields the updated view still has (Slack keeps it by block and action)."""
    typed = {(f.block_id, f.action_id): f for f in before.fields}
    for field in after.fields:
        old = typed.get((field.block_id, field.action_id))
        if old is not None and old.kind == field.kind:
            field.value, field.chosen = old.value, old.chosen
    return after
