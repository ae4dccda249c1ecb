"""The sample AWS world of the demo and the tests: moto's server, two tables and a backup bucket."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

REGION = "us-east-1"
DYNAMODB_TARGETS = ("DynamoDB_20120810.", "DynamoDBStreams_20120810.")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


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

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(DYNAMODB_TARGETS):
            return self._app(environ, start_response)
        with self._lock:  # the whole answer is built before the next DynamoDB request starts
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


RESET_TIMEOUT_SECONDS = 60


def start_moto() -> tuple[MotoServer, str]:
    """moto's real HTTP server in a thread; boto3 reaches it over HTTP like AWS."""
    server = MotoServer()
    return server, server.url


def reset_moto(endpoint: str) -> None:
    """Forget every resource (between tests). moto resets every backend it loaded, which took over 10 s on a 2-core
    machine under a soak's load (seed 4217098449): the timeout is for a moto that hangs, not for a slow one."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST", data=b"")  # noqa: S310
    with urllib.request.urlopen(request, timeout=RESET_TIMEOUT_SECONDS) as response:  # noqa: S310  (local moto only)
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
