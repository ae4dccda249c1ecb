"""Bodies larger than Slack sends, or not signed by Slack, sent to the running bot's /slack/events: refused before
they are held or parsed, what that costs measured with tracemalloc (the bot serves in this process)."""

from __future__ import annotations

import io
import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.limits import SLACK_MAX_BODY
from bot.wiring.app import create_wsgi
from bot.wiring.operations import operations_app
from bot.wiring.runtime import BotRuntime
from tests.support.hostile import MB, peak_memory
from tests.support.slack_requests import SignedSlackClient

GIGABYTE = 1000 * MB


def declare_only(url: str, declared: int, timeout: float = 10.0) -> tuple[int, bytes]:
    """POST headers declaring `declared` bytes of unsigned body and send none of it; (status, body) of the answer.
    A server waiting for the body never answers: the read times out."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Slack-Request-Timestamp: {int(time.time())}\r\nContent-Length: {declared}\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(head.encode("ascii"))
        answer = b""
        while b"\r\n\r\n" not in answer and (data := sock.recv(65536)):
            answer += data
    status_line = answer.split(b"\r\n", 1)[0].split()
    return int(status_line[1]), answer.partition(b"\r\n\r\n")[2]


def test_an_unsigned_request_declaring_a_gigabyte_is_refused_without_being_read(bot: BotRuntime) -> None:
    with peak_memory() as peak:
        status, _ = declare_only(bot.url, GIGABYTE)
    assert status == 413
    assert peak.mb < 20, f"{peak.mb:.1f} MB allocated for a refused request"


def test_a_body_one_byte_over_the_bound_is_refused_and_one_at_the_bound_is_read(
    bot: BotRuntime, signed: SignedSlackClient
) -> None:
    assert declare_only(bot.url, SLACK_MAX_BODY + 1)[0] == 413

    at_bound = b"payload=" + b"x" * (SLACK_MAX_BODY - len(b"payload="))
    answer = signed.raw(at_bound)  # signed: read in full, checked, and refused as what it is (not JSON)
    assert (answer.status, "`payload` is not JSON" in answer.body) == (400, True), answer.body
    assert signed.raw(at_bound, signature="").status == 401


def test_an_unsigned_body_is_refused_before_it_is_parsed(bot: BotRuntime, signed: SignedSlackClient) -> None:
    """Parsed, this body (within the bound) would be hundreds of thousands of objects; unsigned, it is only hashed."""
    head, tail = b'{"type":"block_actions","actions":[', b"{}]}"
    count = (SLACK_MAX_BODY - len(head) - len(tail)) // 3
    body = head + b"{}," * count + tail
    assert len(body) <= SLACK_MAX_BODY
    with peak_memory() as peak:
        answer = signed.raw(body, signature="v0=" + "0" * 64, content_type="application/json")
    assert answer.status == 401
    assert peak.mb < 20, f"{peak.mb:.1f} MB allocated for an unsigned {len(body) / MB:.1f} MB body"


def test_the_endpoint_itself_refuses_a_declared_body_over_the_bound_unread(bot: BotRuntime) -> None:
    """Whatever server runs it (waitress refuses first in ours), the WSGI app never reads a body over the bound."""

    class Unreadable(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise AssertionError("the body was read")

    wsgi = create_wsgi(bot.app, bot.services, operations_app(bot.readiness))
    answered: list[str] = []
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(GIGABYTE),
        "wsgi.input": Unreadable(),
    }
    body = b"".join(wsgi(environ, lambda status, headers: answered.append(status)))
    assert answered == ["413 Request Entity Too Large"]
    assert "larger than 2 MiB, more than any request Slack sends" in body.decode()


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [("not-a-number", "v0=" + "0" * 64), (None, "v0=ü"), (None, "")],
    ids=["timestamp not a number", "signature not ASCII", "no signature"],
)
def test_a_signature_that_cannot_be_checked_gets_401_not_500(
    signed: SignedSlackClient, timestamp: str | None, signature: str
) -> None:
    body = json.dumps({"type": "block_actions", "actions": []}).encode()
    stamp: Any = timestamp if timestamp is not None else int(time.time())
    assert signed.raw(body, timestamp=stamp, signature=signature, content_type="application/json").status == 401
