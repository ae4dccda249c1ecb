"""A local HTTP front for moto's server: chosen DynamoDB operations go to stand-in handlers, the rest to moto unchanged.

moto 5 lacks DynamoDB's newer primitives and any history, so the stand-ins in this package answer those operations
themselves. Every request reaches the front (boto3 is pointed at `url` for every service); a DynamoDB request
(`X-Amz-Target: DynamoDB_20120810.<Operation>`) whose operation has a handler goes to it, and everything else (S3,
STS, other DynamoDB operations, moto's own /moto-api) is forwarded byte for byte. Gates run first on every request
and may answer it themselves (tests/support/aws_proxy.py's fault injection is one). A handler's `AwsError` is
answered in AWS's JSON error shape (`__type`, `message`), so botocore raises the ClientError code AWS would.

Handlers act for the caller by reusing its `Authorization` header on their own calls to moto: moto does not check
signatures and picks the account from the access key, so a stand-in sees exactly the account the caller sees.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import boto3

from bot.demo.aws.clock import Clock, system_clock

DYNAMODB_TARGET = "DynamoDB_20120810."
JSON_TYPE = "application/x-amz-json-1.0"
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive", "server", "date"}
_PLACEHOLDER_SECRET = "moto-ignores-signatures"  # noqa: S105  (moto maps the access key to an account, nothing more)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer to send back: status, body and headers."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_json(cls, payload: dict[str, Any], status: int = 200) -> Answer:
        headers = {"Content-Type": JSON_TYPE, "x-amzn-RequestId": uuid.uuid4().hex}
        return cls(status, json.dumps(payload, separators=(",", ":")).encode(), headers)

    def json(self) -> dict[str, Any]:
        value = json.loads(self.body or b"{}")
        return value if isinstance(value, dict) else {}


class AwsError(Exception):
    """An error AWS answers: the code botocore raises (`ClientError.response['Error']['Code']`) and its message."""

    def __init__(self, code: str, message: str, status: int = 400, extra: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status
        self.extra = extra or {}

    def answer(self) -> Answer:
        return Answer.of_json({"__type": self.code, "message": self.message, **self.extra}, self.status)

    @classmethod
    def from_answer(cls, answer: Answer) -> AwsError:
        """The error moto answered (`__type` may carry moto's `namespace#` prefix)."""
        try:
            payload = answer.json()
        except ValueError:
            payload = {}
        code = str(payload.get("__type", "InternalServerError")).rsplit("#", 1)[-1]
        message = str(payload.get("message") or payload.get("Message") or "")
        extra = {k: v for k, v in payload.items() if k not in {"__type", "message", "Message"}}
        return cls(code, message, answer.status, extra)


@dataclass(frozen=True)
class IncomingRequest:
    """One HTTP request as the front received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")

    @property
    def operation(self) -> str:
        """The X-Amz-Target's operation (`PutItem`), or "" for REST requests (S3)."""
        return self.header("X-Amz-Target").rsplit(".", 1)[-1] if self.header("X-Amz-Target") else ""

    @property
    def is_dynamodb(self) -> bool:
        return self.header("X-Amz-Target").startswith(DYNAMODB_TARGET)


@dataclass(frozen=True)
class Caller:
    """Who sent a request: its Authorization header (reused on the stand-ins' own calls), access key and region."""

    authorization: str
    access_key: str
    region: str

    @classmethod
    def of(cls, request: IncomingRequest) -> Caller:
        authorization = request.header("Authorization")
        scope = authorization.partition("Credential=")[2].split(",", 1)[0].split("/")
        access_key = scope[0] if scope and scope[0] else "testing"
        region = scope[2] if len(scope) > 2 else "us-east-1"
        return cls(authorization, access_key, region)


@dataclass(frozen=True)
class DynamoDbCall:
    """A DynamoDB request for a handler: operation, parsed body and caller."""

    operation: str
    body: dict[str, Any]
    caller: Caller
    request: IncomingRequest


Handler = Callable[[DynamoDbCall], dict[str, Any] | Answer]
Gate = Callable[[IncomingRequest], Answer | None]


class DynamoDbFront:
    """The local server every boto3 client of a test or the demo talks to; moto's server sits behind it."""

    def __init__(self, upstream: str, clock: Clock = system_clock) -> None:
        self.upstream = upstream.rstrip("/")
        self.clock = clock
        self._handlers: dict[str, Handler] = {}
        self._gates: list[Gate] = []
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._accounts: dict[str, str] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _request_handler(self))
        self._server.daemon_threads = True
        self._session = boto3.Session()  # one model loader for every client the stand-ins make
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="dynamodb-front"
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def handle(self, operation: str, handler: Handler) -> None:
        """Answer a DynamoDB operation (`"PutItem"`) with `handler` instead of moto."""
        self._handlers[operation] = handler

    def add_gate(self, gate: Gate) -> None:
        """Run `gate` on every request before anything else; an Answer it returns is sent as is."""
        self._gates.append(gate)

    def dispatch(self, request: IncomingRequest) -> Answer:
        for gate in self._gates:
            answer = gate(request)
            if answer is not None:
                return answer
        handler = self._handlers.get(request.operation) if request.is_dynamodb else None
        if handler is None:
            return self.forward(request)
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return AwsError("SerializationException", "The request body is not a JSON object").answer()
        try:
            result = handler(DynamoDbCall(request.operation, body, Caller.of(request), request))
        except AwsError as error:
            return error.answer()
        return result if isinstance(result, Answer) else Answer.of_json(result)

    def forward(self, request: IncomingRequest) -> Answer:
        """The request sent to moto unchanged, and moto's answer."""
        parts = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=60)
        try:
            skipped = {"host", "transfer-encoding", "expect", "connection"}
            headers = {k: v for k, v in request.headers.items() if k.lower() not in skipped}
            headers["Content-Length"] = str(len(request.body))
            connection.request(request.method, request.path, body=request.body, headers=headers)
            response = connection.getresponse()
            body = response.read()
            answer_headers = dict(response.getheaders())
        finally:
            connection.close()
        if request.method == "HEAD":  # no body, but the size of what a GET would return
            answer_headers["x-front-head-length"] = response.getheader("Content-Length", "0")
        return Answer(response.status, body, answer_headers)

    def call_moto(self, caller: Caller, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """A DynamoDB operation sent to moto as `caller`; raises AwsError with moto's code when it refuses."""
        headers = {
            "Content-Type": JSON_TYPE,
            "X-Amz-Target": DYNAMODB_TARGET + operation,
            "Authorization": caller.authorization
            or f"AWS4-HMAC-SHA256 Credential={caller.access_key}/20260101/{caller.region}/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0",
        }
        answer = self.forward(IncomingRequest("POST", "/", headers, json.dumps(body).encode()))
        if answer.status >= 300:
            raise AwsError.from_answer(answer)
        return answer.json()

    def aws_client(self, service: str, caller: Caller) -> Any:
        """A boto3 client to moto in the caller's account (moto maps the access key to it), e.g. for S3."""
        key = (service, caller.access_key, caller.region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._session.client(
                    service,  # type: ignore[call-overload]
                    region_name=caller.region,
                    endpoint_url=self.upstream,
                    aws_access_key_id=caller.access_key,
                    aws_secret_access_key=_PLACEHOLDER_SECRET,
                )
            return self._clients[key]

    def account_of(self, caller: Caller) -> str:
        """The caller's account id, as moto's STS sees its access key."""
        with self._lock:
            known = self._accounts.get(caller.access_key)
        if known is None:
            known = str(self.aws_client("sts", caller).get_caller_identity()["Account"])
            with self._lock:
                self._accounts[caller.access_key] = known
        return known

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> DynamoDbFront:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _request_handler(front: DynamoDbFront) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # answers `Expect: 100-continue` (S3 uploads) at once, and keeps connections
        disable_nagle_algorithm = True  # headers and body leave at once on a kept connection

        def _serve(self) -> None:
            request = IncomingRequest(self.command, self.path, dict(self.headers.items()), self._body())
            try:
                answer = front.dispatch(request)
            except Exception as error:  # a stand-in's own defect: answer as AWS does, with the reason for the test
                answer = AwsError("InternalServerError", f"stand-in failure: {error!r}", 500).answer()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the caller stopped waiting
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    if key.lower() not in _HOP_BY_HOP and key != "x-front-head-length":
                        self.send_header(key, value)
                length = answer.headers.get("x-front-head-length", str(len(answer.body)))
                self.send_header("Content-Length", length)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return RequestHandler
