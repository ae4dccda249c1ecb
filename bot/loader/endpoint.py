"""Where and as whom the loader writes, resolved from public boto3 APIs exactly as botocore resolves them.

The loader signs and sends its own requests (see http.py for why), so it must reach DynamoDB the way the bot's
boto3 client would: the client's endpoint URL, region, proxies (`Config(proxies=…)`, else HTTPS_PROXY/HTTP_PROXY
with NO_PROXY, through botocore's own `get_environ_proxies`), `proxies_config` (proxy CA bundle, client
certificate, forwarding), client certificate and timeouts, and the session's (possibly refreshing) credentials.
`verify` follows botocore's order: an explicit value, else AWS_CA_BUNDLE, else REQUESTS_CA_BUNDLE, else the
bundled CA file; a CA *directory* is accepted too (as OpenSSL's capath), which botocore 1.44 itself still refuses
(boto/botocore#2731). The one botocore source not read is a profile's `ca_bundle` line: set AWS_CA_BUNDLE instead.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from botocore.httpsession import get_cert_path
from botocore.utils import get_environ_proxies

from bot.errors import BotError

if TYPE_CHECKING:
    from botocore.credentials import ReadOnlyCredentials
    from mypy_boto3_dynamodb import DynamoDBClient

CA_BUNDLE_VARIABLES = ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE")


class CredentialSource(Protocol):
    """botocore's (possibly refreshing) Credentials: each snapshot is consistent, so one is taken per request."""

    def get_frozen_credentials(self) -> ReadOnlyCredentials: ...


@dataclass(frozen=True)
class DynamoDbEndpoint:
    """Everything needed to send signed DynamoDB requests without botocore's per-request cost."""

    url: str
    region: str
    credentials: CredentialSource
    verify: bool | str = True
    proxies: Mapping[str, str] = field(default_factory=dict)
    proxies_config: Mapping[str, Any] = field(default_factory=dict)
    client_cert: str | tuple[str, str] | None = None
    connect_timeout_s: float = 60.0
    read_timeout_s: float = 60.0

    @classmethod
    def of(
        cls, client: DynamoDBClient, credentials: CredentialSource | None, verify: bool | str | None = None
    ) -> DynamoDbEndpoint:
        """The endpoint a boto3 client talks to, with `credentials` from `boto3.Session.get_credentials()`."""
        if credentials is None:
            raise BotError("No AWS credentials were found for DynamoDB.", "Configure the bot's AWS role or keys.")
        config: Any = client.meta.config  # its documented options are set dynamically, so the stubs lack them
        url = client.meta.endpoint_url
        proxies = config.proxies if config.proxies is not None else get_environ_proxies(url)
        return cls(
            url=url,
            region=client.meta.region_name,
            credentials=credentials,
            verify=resolve_verify(verify),
            proxies=dict(proxies),
            proxies_config=dict(config.proxies_config or {}),
            client_cert=config.client_cert,
            connect_timeout_s=float(config.connect_timeout or 60),
            read_timeout_s=float(config.read_timeout or 60),
        )


def resolve_verify(verify: bool | str | None, environ: Mapping[str, str] = os.environ) -> bool | str:
    """botocore's order: explicit, AWS_CA_BUNDLE, REQUESTS_CA_BUNDLE, True (the bundled CA file)."""
    if verify is not None:
        return verify
    for name in CA_BUNDLE_VARIABLES:
        value = environ.get(name)
        if value is not None:
            if not value.strip():
                raise BotError(
                    f"{name} is set but empty.", f"Set {name} to a CA bundle file or directory, or unset it."
                )
            return value
    return True


def tls_context(verify: bool | str, client_cert: str | tuple[str, str] | None = None) -> ssl.SSLContext:
    """A client TLS context: a CA file or directory (`verify` a path), the bundled CAs (True), or none (False)."""
    location: Any = get_cert_path(verify) if verify is not False else None  # type: ignore[arg-type]
    try:
        if isinstance(location, str) and os.path.isdir(location):
            context = ssl.create_default_context(capath=location)
        else:
            context = ssl.create_default_context(cafile=location if isinstance(location, str) else None)
        if isinstance(client_cert, tuple):
            context.load_cert_chain(client_cert[0], client_cert[1])
        elif client_cert:
            context.load_cert_chain(client_cert)
    except (OSError, ssl.SSLError) as error:
        raise BotError(
            f"The CA bundle or client certificate for DynamoDB could not be read ({type(error).__name__}).",
            "Point AWS_CA_BUNDLE at a readable PEM file or a directory of hashed certificates.",
        ) from error
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
