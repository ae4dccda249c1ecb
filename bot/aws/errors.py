"""ClientError and BotoCoreError turned into what the user must fix (AWS-supplied text is escaped when shown)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from bot.errors import AwsError, BotError


def error_code(exc: ClientError) -> str:
    """The AWS error code of a ClientError."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_message(exc: ClientError) -> str:
    """The AWS error message of a ClientError (AWS-supplied text: escape before showing)."""
    return str(exc.response.get("Error", {}).get("Message", "")) or error_code(exc)


ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
}
THROTTLED = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
}


def translate(exc: Exception, action: str, resource: str) -> BotError:
    """Turn an AWS failure into what the user must fix; `action` is the IAM action, `resource` what it touched."""
    if isinstance(exc, BotError):
        return exc
    if isinstance(exc, BotoCoreError):
        return AwsError(
            f"Could not reach AWS for {action} on {resource}: {exc}.",
            "Check the bot's network access and AWS credentials (AWS_PROFILE, AWS_REGION, role).",
            code=type(exc).__name__,
        )
    if not isinstance(exc, ClientError):
        raise exc
    code, message = error_code(exc), error_message(exc)
    if code in {"ResourceNotFoundException", "TableNotFoundException"}:
        return AwsError(f"{resource} was not found.", "Check the name, the account alias and the region.", code=code)
    if code in ACCESS_DENIED:
        return AwsError(
            f"AWS denied {action} on {resource}: {message}.",
            f"Grant `{action}` to the bot's role (deploy/iam-policy.json lists every permission it needs).",
            code=code,
        )
    if code in {"ExpiredTokenException", "ExpiredToken", "InvalidClientTokenId", "InvalidSignatureException"}:
        return AwsError(
            f"The bot's AWS credentials were refused ({code}).",
            "Renew the credentials the bot runs with.",
            code=code,
        )
    if code in THROTTLED:
        return AwsError(f"AWS is limiting {action} right now: {message}.", "Try again in a few minutes.", code=code)
    return AwsError(f"AWS refused {action} on {resource}: {message} ({code}).", code=code)
