"""`/ddb-verify` text → a typed request; its usage lives here and feeds `help` and every error."""

from __future__ import annotations

from dataclasses import dataclass

from bot.aws.names import is_account_id
from bot.errors import UsageError
from handlers.kit.parsing import CommandHelp, HelpRequest, split_options, tokenize, wants_help

VERIFY = "/ddb-verify"
VERIFY_HELP = CommandHelp(
    VERIFY,
    "Check an export without restoring it: manifests, every file's MD5 and item count, gzip, every line, and the "
    "bot's own record of the export (operators). Runs in the background; progress in a thread.",
    (f"{VERIFY} <export id | export ARN | s3://<bucket>/<prefix>/AWSDynamoDB/<ExportId>/> [owner=<12-digit account>]",),
    (
        f"{VERIFY} 01768385930622-efd1a093",
        f"{VERIFY} s3://partner-backups/orders/AWSDynamoDB/01768385930622-efd1a093/ owner=210987654321",
    ),
)


@dataclass(frozen=True)
class VerifyCommand:
    """Which export to verify; `owner` is the account said to own an S3 URL's bucket."""

    target: str
    owner: str | None = None


def parse_verify(text: str) -> VerifyCommand | HelpRequest:
    """`<export> [owner=<12 digits>]`."""
    tokens = tokenize(text, VERIFY_HELP)
    if not tokens or wants_help(tokens):
        return HelpRequest(VERIFY_HELP)
    words, options = split_options(tokens, ("owner",), VERIFY_HELP, literal_prefixes=("s3://", "arn:"))
    if len(words) != 1:
        raise UsageError(
            f"{VERIFY} takes one export (its id, ARN or s3:// folder), not {len(words)} words.", VERIFY_HELP.usage_text
        )
    owner = options.get("owner")
    if owner is not None and not is_account_id(owner):
        raise UsageError(f"`owner=` must be a 12-digit AWS account id, not `{owner[:40]}`.", VERIFY_HELP.usage_text)
    return VerifyCommand(words[0], owner)
