"""A local front for moto that can answer chosen AWS operations with an error, as AWS would: JSON-protocol services
(DynamoDB) get a JSON `__type` error, query-protocol ones (STS) AWS's XML `ErrorResponse`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from bot.demo.aws.front import Answer, DynamoDbFront, IncomingRequest
from tests.support.list_exports import ListExportsAsAws


@dataclass(frozen=True)
class Fault:
    """An AWS error answer: HTTP status, `__type` code and message."""

    status: int
    code: str
    message: str


Decide = Callable[[str, bytes], Fault | None]
QUERY_ERROR = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code>'
    "<Message>{message}</Message></Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
)


def fixed_faults(faults: dict[str, Fault]) -> Decide:
    """Always fail the listed operations (by X-Amz-Target suffix, or a query-protocol request's Action); pass
    everything else to moto."""
    return lambda operation, _body: faults.get(operation)


class AwsFaultProxy:
    """Forwards every request to moto unless `decide(operation, body)` returns a Fault to answer instead.

    A gate on the demo's DynamoDbFront (bot/demo/aws/front.py), which does the forwarding. ListExports is answered
    as AWS documents it (`exports`: TableArn optional, 25 a page; tests/support/list_exports.py), since moto lacks it.
    """

    def __init__(self, upstream: str, decide: Decide) -> None:
        self.upstream = upstream.rstrip("/")
        self.decide = decide
        self.seen: list[str] = []
        self.refused_regions: dict[str, Fault] = {}  # every request signed for that region gets the fault
        self.refused_in_region: dict[tuple[str, str], Fault] = {}  # (region, operation): that call there fails
        self.canned: dict[str, dict[str, Any]] = {}  # GET path prefix → JSON answer (APIs moto lacks)
        self.refused_paths: dict[str, Fault] = {}  # GET path prefix → the fault (REST APIs such as AWS Backup)
        self._front = DynamoDbFront(self.upstream)
        self._front.add_gate(self._gate)
        self.exports = ListExportsAsAws(self._front)

    @property
    def url(self) -> str:
        return self._front.url

    def region_fault(self, authorization: str, operation: str = "") -> Fault | None:
        """The fault of the region the request is signed for (its SigV4 credential scope), if refused there (for
        every call, or for this operation)."""
        scope = authorization.partition("Credential=")[2].split(",", 1)[0].split("/")
        if len(scope) <= 2:
            return None
        return self.refused_regions.get(scope[2]) or self.refused_in_region.get((scope[2], operation))

    def close(self) -> None:
        self._front.close()

    def __enter__(self) -> AwsFaultProxy:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _gate(self, request: IncomingRequest) -> Answer | None:
        if request.method == "GET":
            refused = next((f for k, f in self.refused_paths.items() if request.path.startswith(k)), None)
            if refused is not None:
                payload = json.dumps({"__type": refused.code, "message": refused.message}).encode()
                return Answer(refused.status, payload, {"Content-Type": "application/json"})
            canned = next((v for k, v in self.canned.items() if request.path.startswith(k)), None)
            return (
                None
                if canned is None
                else Answer(200, json.dumps(canned).encode(), {"Content-Type": "application/json"})
            )
        if request.method != "POST":
            return None
        query = "x-www-form-urlencoded" in request.header("Content-Type")
        operation = _query_action(request.body) if query else request.operation
        self.seen.append(operation)
        fault = self.region_fault(request.header("Authorization"), operation) or self.decide(operation, request.body)
        if fault is None:
            return None
        if query:
            payload = QUERY_ERROR.format(code=escape(fault.code), message=escape(fault.message)).encode()
            return Answer(fault.status, payload, {"Content-Type": "text/xml"})
        payload = json.dumps({"__type": fault.code, "message": fault.message}).encode()
        return Answer(fault.status, payload, {"Content-Type": "application/x-amz-json-1.0"})


def _query_action(body: bytes) -> str:
    """The operation of a query-protocol request (STS): its form body's `Action`."""
    return parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
