"""One error hierarchy; each error carries the sentence a user should read and what to do about it."""

from __future__ import annotations


class BotError(Exception):
    """An expected failure with a message fit for the user (plain text; escaped when rendered). `ask`: the Slack
    ids of the people (U…/W…) or user groups (S…) who can help, shown as mentions after the fix (the text itself
    cannot mention anyone: it is escaped)."""

    def __init__(self, message: str, fix: str | None = None, *, ask: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.ask = ask

    def __str__(self) -> str:
        return self.message if not self.fix else f"{self.message} {self.fix}"


class UsageError(BotError):
    """The command text could not be understood; `usage` says how to write it."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.usage = usage


class NotAllowed(BotError):
    """The user may not do this."""


class NotFound(BotError):
    """A table, export or request does not exist."""


class PreconditionFailed(BotError):
    """The request is well formed but the world is not ready for it (e.g. PITR off)."""


class AwsError(BotError):
    """AWS refused a call; the message says what the user must fix."""

    def __init__(self, message: str, fix: str | None = None, code: str = "") -> None:
        super().__init__(message, fix)
        self.code = code
