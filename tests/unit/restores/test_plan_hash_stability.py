"""Plans stored before options were typed keep their hash: approvals given then stay bound to what will run.

Each canonical text and hash below was produced by the code as it was before typed options (RestorePlan with a
plain `options` mapping), for plans shaped as the planner made them for each mode.
"""

from __future__ import annotations

import json

import pytest

from bot.restores.models import ImportOptions, LoadOptions, PitrOptions, RestorePlan

BEFORE = [
    (
        '{"account":{"alias":null,"region":"us-east-1"},"mode":"import","options":{"bucket":"acme-ddb-backups",'
        '"bucket_owner":null,"compression":"GZIP","input_format":"DYNAMODB_JSON","key_prefix":"dynamodb-exports/orders/'
        '20260114T101850Z/AWSDynamoDB/01768385930622-efd1a093/data/","schema_basis":"the source table `orders`",'
        '"source_table":{"alias":null,"name":"orders","region":"us-east-1"},"table":{"AttributeDefinitions":'
        '[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],"BillingMode":'
        '"PROVISIONED","GlobalSecondaryIndexes":[{"IndexName":"by-status","KeySchema":[{"AttributeName":"sk",'
        '"KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},"ProvisionedThroughput":{"ReadCapacityUnits":5,'
        '"WriteCapacityUnits":5}}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk",'
        '"KeyType":"RANGE"}],"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5},"TableName":'
        '"orders-restored"}},"sources":["arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/'
        '01768385930622-efd1a093"],"target":"orders-restored"}',
        "afb93c2e2a49a0c8bd740c61e672aea09ef16f2c6864f406ebac54249ff7158e",
        ImportOptions,
    ),
    (
        '{"account":{"alias":"prod","region":"eu-west-1"},"mode":"import","options":{"bucket":"other-bucket",'
        '"bucket_owner":"222222222222","compression":"GZIP","input_format":"ION","key_prefix":"p/AWSDynamoDB/'
        '01768385930622-efd1a093/data/","schema_basis":"`key=`","source_table":null,"table":{"AttributeDefinitions":'
        '[{"AttributeName":"id","AttributeType":"B"}],"BillingMode":"PAY_PER_REQUEST","KeySchema":[{"AttributeName":'
        '"id","KeyType":"HASH"}],"TableName":"copy"}},"sources":["s3://other-bucket/p/AWSDynamoDB/'
        '01768385930622-efd1a093/"],"target":"copy"}',
        "e86f1a45e07e02a9f920828ee56eeef7c8ccc3586ece15a8e1cad32bee11ff0a",
        ImportOptions,
    ),
    (
        '{"account":{"alias":null,"region":"us-east-1"},"mode":"pitr","options":{"billing_mode":"PAY_PER_REQUEST",'
        '"restore_time":"2026-01-14T10:00:00+00:00","source_table":{"alias":null,"arn":"arn:aws:dynamodb:us-east-1:'
        '123456789012:table/orders","name":"orders","region":"us-east-1"}},"sources":["arn:aws:dynamodb:us-east-1:'
        '123456789012:table/orders"],"target":"orders-20260114"}',
        "e0413782658abcbd1054b9a8427e09b73ded97cb40125ac2bf5d28ec5c02190f",
        PitrOptions,
    ),
    (
        '{"account":{"alias":"prod","region":"eu-west-1"},"mode":"pitr","options":{"restore_time":"latest",'
        '"source_table":{"alias":"prod","arn":"arn:aws:dynamodb:eu-west-1:111111111111:table/orders","name":"orders",'
        '"region":"eu-west-1"}},"sources":["arn:aws:dynamodb:eu-west-1:111111111111:table/orders"],'
        '"target":"orders-latest"}',
        "f085118dba93c7d5ff65a854318c3d2d6bca47cf07406c064a32b496b227bc12",
        PitrOptions,
    ),
    (
        '{"account":{"alias":null,"region":"us-east-1"},"mode":"load","options":{"exports":[{"bucket":'
        '"acme-ddb-backups","export_id":"01768385930622-efd1a093","export_type":"FULL_EXPORT","format":'
        '"DYNAMODB_JSON","owner":null,"prefix":"dynamodb-exports/orders/20260114T101850Z","read_alias":null,'
        '"read_region":"us-east-1","url":"s3://acme-ddb-backups/dynamodb-exports/orders/20260114T101850Z/AWSDynamoDB/'
        '01768385930622-efd1a093/"},{"bucket":"acme","export_id":"01768389530622-0a1b2c3d","export_type":'
        '"INCREMENTAL_EXPORT","format":"DYNAMODB_JSON","owner":"222222222222","prefix":"x","read_alias":"prod",'
        '"read_region":"eu-west-1","url":"s3://acme/x/AWSDynamoDB/01768389530622-0a1b2c3d/"}],"key_names":["pk","sk"]},'
        '"sources":["arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/01768385930622-efd1a093",'
        '"s3://acme/x/AWSDynamoDB/01768389530622-0a1b2c3d/"],"target":"orders-staging"}',
        "76f2793e438c70c2579ce844691e7a614351b0d9353c8be938bce4e522c738a1",
        LoadOptions,
    ),
]


@pytest.mark.parametrize(("canonical", "digest", "kind"), BEFORE, ids=lambda v: getattr(v, "__name__", None))
def test_a_plan_stored_before_typed_options_reads_back_typed_and_hashes_the_same(
    canonical: str, digest: str, kind: type
) -> None:
    stored = RestorePlan.from_dict(json.loads(canonical))
    assert isinstance(stored.options, kind)
    assert stored.canonical() == canonical
    assert stored.digest() == digest


def test_a_plan_refuses_options_of_another_mode() -> None:
    pitr = RestorePlan.from_dict(json.loads(BEFORE[2][0]))
    with pytest.raises(TypeError):
        RestorePlan("load", pitr.sources, pitr.target, pitr.alias, pitr.region, pitr.options)  # type: ignore[arg-type]
