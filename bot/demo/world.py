"""The sample AWS world of the demo and the tests: moto's server, two tables and a backup bucket."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

REGION = "us-east-1"
DYNAMODB_TARGETS = ("DynamoDB_20120810.", "DynamoDBStreams_20120810.")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
EXPORT_TARGET = "DynamoDB_20120810.ExportTableToPointInTime"
TOKEN_VALIDITY_SECONDS = 8 * 3600


class ExportClientTokens:
    """ExportTableToPointInTime's ClientToken as AWS documents it and moto (5.2) ignores it: within 8 hours the same
    token with the same parameters answers with the export the first request started, with other parameters
    ExportConflictException. The bot's exactly-once fires rest on it (a fire taken over after AWS started its export
    asks again with the same token), so a test AWS that started a second export would report a duplicate the bot
    never makes. Forgotten on moto's reset."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, float, tuple[str, list[tuple[str, str]], bytes]]] = {}

    def clear(self) -> None:
        self._seen.clear()

    def answer(self, environ: dict[str, Any], start_response: Callable[..., Any], app: WsgiApp) -> Iterable[bytes]:
        """moto's answer, or the remembered one (called one DynamoDB request at a time)."""
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        request = json.loads(body or b"{}")
        token = request.pop("ClientToken", None) if isinstance(request, dict) else None
        if not token:
            return [_consumed(app, environ, start_response)[2]]
        parameters = json.dumps(request, sort_keys=True)
        seen = self._seen.get(token)
        if seen is not None and time.monotonic() - seen[1] < TOKEN_VALIDITY_SECONDS:
            status, headers, payload = seen[2] if seen[0] == parameters else _conflict()
            start_response(status, headers)
            return [payload]
        status, headers, payload = _consumed(app, environ, start_response)
        if status.startswith("200"):
            self._seen[token] = (parameters, time.monotonic(), (status, headers, payload))
        return [payload]


def _consumed(
    app: WsgiApp, environ: dict[str, Any], start_response: Callable[..., Any]
) -> tuple[str, list[tuple[str, str]], bytes]:
    """moto's whole answer: its status, headers and body (closed after reading, as PEP 3333 asks)."""
    said: list[Any] = []

    def capture(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
        said.extend((status, list(headers)))
        return start_response(status, headers, *rest)

    answer = app(environ, capture)
    try:
        payload = b"".join(answer)
    finally:
        if hasattr(answer, "close"):
            answer.close()
    return said[0], said[1], payload


def _conflict() -> tuple[str, list[tuple[str, str]], bytes]:
    payload = json.dumps(
        {"__type": "com.amazonaws.dynamodb.v20120810#ExportConflictException", "message": "ClientToken reused"}
    ).encode()
    return (
        "400 Bad Request",
        [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(payload)))],
        payload,
    )


class OneDynamoDbRequestAtATime:
    """moto's WSGI app, answering one DynamoDB request at a time (every other service as moto does).

    moto (5.2) keeps a table's items in a `defaultdict` keyed by its own `DynamoType`, whose `__hash__` is Python
    code, and PutItem first looks the key up with `items[pk][sk]`, which creates the partition's dict on a miss.
    A thread can be switched out between that lookup missing and the new dict being stored; if another request
    writes an item under the same new partition key meanwhile, the first then stores its empty dict over the other's,
    and an item DynamoDB answered as written (200, no UnprocessedItems) is gone. DynamoDB never loses an
    acknowledged write, so the tests' AWS must not either: tests/unit/demo/test_world.py drives that interleaving.
    """

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._tokens = ExportClientTokens()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if not target.startswith(DYNAMODB_TARGETS):
            if environ.get("PATH_INFO") == "/moto-api/reset":
                with self._lock:
                    self._tokens.clear()
            return self._app(environ, start_response)
        with self._lock:  # the whole answer is built before the next DynamoDB request starts
            if target == EXPORT_TARGET:
                return self._tokens.answer(environ, start_response, self._app)
            answer = self._app(environ, start_response)
            try:
                return list(answer)
            finally:
                if hasattr(answer, "close"):  # PEP 3333: whoever consumes an answer closes it
                    answer.close()


class MotoServer:
    """moto's HTTP server (its own app and request handler, as ThreadedMotoServer runs them) in a daemon thread."""

    def __init__(self) -> None:
        app = OneDynamoDbRequestAtATime(DomainDispatcherApplication(create_backend_app))
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()


def start_moto() -> tuple[MotoServer, str]:
    """moto's real HTTP server in a thread; boto3 reaches it over HTTP like AWS."""
    server = MotoServer()
    return server, server.url


def reset_moto(endpoint: str) -> None:
    """Forget every resource (between tests)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST", data=b"")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  (local moto only)
        response.read()


def client(service: str, endpoint: str, **credentials: Any) -> Any:
    """A boto3 client against moto."""
    session: Any = boto3.Session()
    return session.client(service, region_name=REGION, endpoint_url=endpoint, **credentials)


def create_table(ddb: Any, name: str, *, pitr: bool, items: list[dict[str, Any]]) -> None:
    """An on-demand table keyed by pk (+ sk), with items and PITR as asked."""
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for item in items:
        ddb.put_item(TableName=name, Item=item)
    if pitr:
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )


def order_items(count: int) -> list[dict[str, Any]]:
    """Sample orders with a few attribute types."""
    return [
        {
            "pk": {"S": f"order#{i:04d}"},
            "sk": {"S": "v1"},
            "total": {"N": f"{i * 10}.25"},
            "paid": {"BOOL": i % 2 == 0},
            "lines": {"L": [{"M": {"sku": {"S": f"sku-{i}"}, "qty": {"N": "1"}}}]},
        }
        for i in range(count)
    ]


def build_world(endpoint: str, *, bucket: str = "acme-ddb-backups") -> None:
    """Two tables (orders with PITR on, customers with PITR off) and a backup bucket."""
    ddb = client("dynamodb", endpoint)
    create_table(ddb, "orders", pitr=True, items=order_items(3))
    create_table(
        ddb, "customers", pitr=False, items=[{"pk": {"S": "c#1"}, "sk": {"S": "profile"}, "name": {"S": "Ada"}}]
    )
    client("s3", endpoint).create_bucket(Bucket=bucket)
