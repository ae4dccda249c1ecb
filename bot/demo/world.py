"""The sample AWS world of the demo and the tests: moto's server, two tables and a backup bucket."""

from __future__ import annotations

import urllib.request
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

REGION = "us-east-1"


def start_moto() -> tuple[ThreadedMotoServer, str]:
    """moto's real HTTP server in a thread; boto3 reaches it over HTTP like AWS."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


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
