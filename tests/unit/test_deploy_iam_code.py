"""The IAM policies in deploy/ grant exactly the AWS actions the code calls, each on the resources it needs.

The calls are found by reading the code (AST), not by recording traffic: every method called on a name that is an
operation of a service the code builds a client for (mapped with botocore's own service models), every paginator
and waiter, and every raw `X-Amz-Target` string (the loader's own BatchWriteItem). So a call that moves to another
module is still found, and a new one fails here until the policies allow it.
"""

from __future__ import annotations

import ast
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import parliament
import pytest
from botocore import xform_name

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("bot", "handlers", "scheduler")
# The local AWS world of `make demo` (never run against real AWS), and the SQL migrations (op.create_table is
# Alembic, not DynamoDB).
EXCLUDED = (ROOT / "bot" / "demo", ROOT / "bot" / "migrations")
DEPLOY = ROOT / "deploy"
BOT_POLICY = DEPLOY / "iam-policy.json"
MEMBER_POLICY = DEPLOY / "iam-policy-member-account.json"
BUCKET_POLICY = DEPLOY / "cross-account-bucket-policy.json"

RESTORE_TABLE_PREFIX = "restored-"
DRILL_TABLES = "*-drill-*"
DRILL_TAG = "ddb-backup-bot:drill"
MANAGED_TAG = "aws:ResourceTag/ddb-backup-bot:managed"
RESTORE_TARGET_TAG = "aws:ResourceTag/ddb-backup-bot:restore-target"

# Operations whose IAM action is not <prefix>:<OperationName> (Service Authorization Reference, S3 actions).
ACTION_OF_OPERATION = {
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "GetBucketLifecycleConfiguration"): "s3:GetLifecycleConfiguration",
    ("s3", "GetObjectLockConfiguration"): "s3:GetBucketObjectLockConfiguration",
    ("s3", "DeleteObjects"): "s3:DeleteObject",
    ("s3", "ListObjectVersions"): "s3:ListBucketVersions",
}

# What AWS does with the caller's permissions on behalf of an operation, per the DynamoDB developer guide
# (S3DataExport.Requesting, S3DataImport.Requesting, backuprestore_IAM); parliament's IAM database adds its own
# `dependent_actions` (RestoreTableToPointInTime: the item actions on the new table).
# SSE-KMS (S3's UsingKMSEncryption guide): writing an object with a KMS key needs kms:GenerateDataKey (and
# kms:Decrypt for multipart uploads); reading one back needs kms:Decrypt.
DEPENDENT_ACTIONS = {
    "dynamodb:ExportTableToPointInTime": {
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:PutObjectAcl",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    },
    "s3:GetObject": {"kms:Decrypt"},
    # DeleteObjects with a VersionId (an early deletion in a versioned bucket) needs s3:DeleteObjectVersion
    "s3:DeleteObject": {"s3:DeleteObjectVersion"},
    "dynamodb:ImportTable": {
        "s3:GetObject",
        "s3:ListBucket",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
        "logs:PutRetentionPolicy",
    },
}

# Actions newer than parliament's offline Service Authorization Reference: their resource types as the API implies
# them (NOT CONFIRMED: the developer guide's permissions section for bulk put could not be read). Bulk put reads
# the input and writes its report with the caller's permissions (DEPENDENT_ACTIONS below).
UNLISTED_PRIVILEGES: dict[str, dict[str, Any]] = {
    "dynamodb:StartBulkPutItems": {"resource_types": [{"resource_type": "table*", "dependent_actions": []}]},
    "dynamodb:DescribeBulkOperation": {"resource_types": [{"resource_type": "table*", "dependent_actions": []}]},
    "dynamodb:CancelBulkOperation": {"resource_types": [{"resource_type": "table*", "dependent_actions": []}]},
    "dynamodb:ListBulkOperations": {"resource_types": [{"resource_type": "", "dependent_actions": []}]},
}
DEPENDENT_ACTIONS["dynamodb:StartBulkPutItems"] = {
    "s3:GetObject",
    "s3:ListBucket",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
}

# Calls made only with the bot's own session, never an assumed one: AssumeRole itself (bot/aws/accounts.py
# assumed_role_session uses the base session) and the Price List (bootstrap builds it from the base session).
BOT_SESSION_ONLY = {"sts:AssumeRole", "pricing:GetProducts"}

ITEM_WRITES = {
    "dynamodb:BatchWriteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:StartBulkPutItems",
}
CREATES_TABLES = {"dynamodb:ImportTable"}


@dataclass(frozen=True)
class Call:
    """One AWS operation the code calls, and where."""

    service: str
    operation: str
    where: str


# --- reading the code -------------------------------------------------------------------------------------


def code_files(root: Path = ROOT) -> list[Path]:
    """Every Python module of the bot (bot/, handlers/, scheduler/), without the demo."""
    files = []
    for folder in CODE_DIRS:
        for path in sorted((root / folder).rglob("*.py")):
            if not any(path.is_relative_to(excluded) for excluded in EXCLUDED):
                files.append(path)
    return files


@cache
def botocore_session() -> Any:
    return botocore.session.get_session()


def client_services(trees: dict[str, ast.Module]) -> set[str]:
    """Services the code builds clients for: string arguments of `….client(...)`/`….*_client(...)` calls."""
    available = set(botocore_session().get_available_services())
    services = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if not name.endswith("client"):
                continue
            arguments = [*node.args, *(k.value for k in node.keywords if k.arg == "service_name")]
            services |= {str(a.value) for a in arguments if isinstance(a, ast.Constant) and a.value in available}
    return services


def aws_calls(files: list[Path] | None = None) -> list[Call]:
    """Every AWS operation the code calls: client methods, paginators, waiters and raw X-Amz-Target strings."""
    trees = {
        str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p): ast.parse(p.read_text(), str(p))
        for p in (files or code_files())
    }
    services = client_services(trees)
    methods: dict[str, set[tuple[str, str]]] = defaultdict(set)
    targets: dict[str, tuple[str, str]] = {}
    waiters: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for service in services:
        model = botocore_session().get_service_model(service)
        for operation in model.operation_names:
            methods[xform_name(operation)].add((service, operation))
            if model.metadata.get("targetPrefix"):
                targets[f"{model.metadata['targetPrefix']}.{operation}"] = (service, operation)
        try:
            waiter_model = botocore_session().get_waiter_model(service)
        except Exception:  # noqa: S112  (a service without waiters)
            continue
        for waiter in waiter_model.waiter_names:
            waiters[xform_name(waiter)].add((service, waiter_model.get_waiter(waiter).operation))

    calls = []
    for where, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in targets:
                calls.append(Call(*targets[node.value], f"{where}:{node.lineno}"))
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            found: set[tuple[str, str]] = set()
            name = node.func.attr
            literal = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            if name == "get_paginator" and isinstance(literal, str):
                found = methods.get(literal, set())
                assert found, f"{where}:{node.lineno}: paginator {literal!r} is no operation of {sorted(services)}"
            elif name == "get_waiter" and isinstance(literal, str):
                found = waiters.get(literal, set())
                assert found, f"{where}:{node.lineno}: waiter {literal!r} is no waiter of {sorted(services)}"
            elif name in methods:
                found = methods[name]
                receiver = node.func.value.id if isinstance(node.func.value, ast.Name) else None
                if len(found) > 1 and receiver in {service for service, _ in found}:
                    found = {pair for pair in found if pair[0] == receiver}  # `dynamodb.tag_resource(...)`
            assert len(found) <= 1, f"{where}:{node.lineno}: `{name}` is an operation of several services: {found}"
            calls.extend(Call(service, operation, f"{where}:{node.lineno}") for service, operation in found)
    return calls


# --- from operations to IAM actions -----------------------------------------------------------------------


@cache
def iam_definition() -> dict[str, dict[str, Any]]:
    """Parliament's offline copy of the Service Authorization Reference: prefix → action → privilege."""
    data = json.loads((Path(parliament.__file__).parent / "iam_definition.json").read_text())
    return {service["prefix"]: {p["privilege"]: p for p in service["privileges"]} for service in data}


def privilege(action: str) -> dict[str, Any]:
    if action in UNLISTED_PRIVILEGES:
        return UNLISTED_PRIVILEGES[action]
    prefix, name = action.split(":")
    found: dict[str, Any] = iam_definition()[prefix][name]
    return found


def iam_action(call: Call) -> str:
    """The IAM action that authorizes an operation; fails when the mapping is unknown."""
    model = botocore_session().get_service_model(call.service)
    action = ACTION_OF_OPERATION.get((call.service, call.operation)) or f"{model.signing_name}:{call.operation}"
    prefix, name = action.split(":")
    assert name in iam_definition().get(prefix, {}) or action in UNLISTED_PRIVILEGES, (
        f"{call.where}: {call.service}.{call.operation} maps to {action}, which IAM does not know; "
        "add the right action to ACTION_OF_OPERATION"
    )
    return action


def dependent_actions(action: str) -> set[str]:
    listed = {a for r in privilege(action)["resource_types"] for a in r["dependent_actions"]}
    return listed | DEPENDENT_ACTIONS.get(action, set())


def required_actions(calls: list[Call]) -> dict[str, list[str]]:
    """IAM action → where the code needs it (its own calls and what AWS does on their behalf)."""
    needed: dict[str, list[str]] = defaultdict(list)
    for call in calls:
        action = iam_action(call)
        needed[action].append(call.where)
        for dependent in dependent_actions(action):
            needed[dependent].append(f"{call.where} (for {action})")
    return needed


# --- reading the policies ---------------------------------------------------------------------------------


def statements(path: Path) -> list[dict[str, Any]]:
    document = json.loads(path.read_text())
    return [dict(s) for s in document["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowed(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Action → the Allow statements that grant it (wildcards are not used in these policies)."""
    grants: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for statement in statements(path):
        if statement["Effect"] == "Allow":
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{path.name} {statement.get('Sid')}: wildcard action {action}"
                grants[action].append(statement)
    return grants


def missing_and_unused(needed: dict[str, list[str]], granted: set[str], policy: str) -> list[str]:
    problems = [
        f"the code calls {action} ({', '.join(needed[action][:3])}) but {policy} does not allow it"
        for action in sorted(needed.keys() - granted)
    ]
    problems += [f"{policy} grants {action}, which no code uses" for action in sorted(granted - needed.keys())]
    return problems


# --- the tests --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def needed() -> dict[str, list[str]]:
    return required_actions(aws_calls())


def test_the_scan_finds_the_calls_the_bot_is_known_to_make(needed: dict[str, list[str]]) -> None:
    for action in (
        "dynamodb:DescribeTable",
        "dynamodb:ExportTableToPointInTime",
        "dynamodb:ImportTable",
        "dynamodb:ListImports",
        "dynamodb:BatchWriteItem",  # only as the loader's raw X-Amz-Target string
        "s3:ListBucket",  # only as get_paginator("list_objects_v2")
        "sts:AssumeRole",
        "pricing:GetProducts",
        "application-autoscaling:DescribeScalableTargets",
    ):
        assert action in needed, f"the AST scan no longer finds {action}"
    assert any("loader" in where for where in needed["dynamodb:BatchWriteItem"])
    for action in ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem"):  # the conditional writer's
        assert any("recovery" in where for where in needed[action]), f"the scan misses the repairs' {action}"


def test_the_bot_role_allows_every_action_the_code_needs_and_nothing_else(needed: dict[str, list[str]]) -> None:
    problems = missing_and_unused(needed, set(allowed(BOT_POLICY)), BOT_POLICY.name)
    assert not problems, "\n".join(problems)


def test_a_member_role_allows_the_same_except_what_only_the_bots_own_session_calls(
    needed: dict[str, list[str]],
) -> None:
    assert needed.keys() >= BOT_SESSION_ONLY, "BOT_SESSION_ONLY names actions the code no longer calls"
    member_needs = {action: where for action, where in needed.items() if action not in BOT_SESSION_ONLY}
    problems = missing_and_unused(member_needs, set(allowed(MEMBER_POLICY)), MEMBER_POLICY.name)
    assert not problems, "\n".join(problems)


def test_the_bucket_policy_allows_the_s3_actions_the_code_needs_and_nothing_else(
    needed: dict[str, list[str]],
) -> None:
    s3_needed = {action: where for action, where in needed.items() if action.startswith("s3:")}
    problems = missing_and_unused(s3_needed, set(allowed(BUCKET_POLICY)), BUCKET_POLICY.name)
    assert not problems, "\n".join(problems)


def resource_types(action: str) -> set[str]:
    return {r["resource_type"].rstrip("*") for r in privilege(action)["resource_types"]} - {""}


@pytest.mark.parametrize("policy", [BOT_POLICY, MEMBER_POLICY, BUCKET_POLICY], ids=lambda p: p.name)
def test_resource_star_only_for_actions_that_support_no_resources(policy: Path) -> None:
    problems = []
    for action, grants in allowed(policy).items():
        for statement in grants:
            resources = as_list(statement["Resource"])
            if not resource_types(action) and resources != ["*"]:
                problems.append(f"{statement['Sid']}: {action} has no resource-level permissions; grant it on *")
            if resource_types(action) and "*" in resources:
                problems.append(f"{statement['Sid']}: {action} supports {resource_types(action)}; never *")
    assert not problems, "\n".join(problems)


def drill_scoped(statement: dict[str, Any]) -> bool:
    """A drill's throwaway table: named `<table>-drill-<stamp>` (only ImportTable creates such a table)."""
    return all(r.endswith(f":table/{DRILL_TABLES}") for r in as_list(statement["Resource"]))


def item_write_scoped(statement: dict[str, Any]) -> bool:
    """A restore target: a new table named with the prefix, or an existing table tagged as a restore target."""
    tagged = statement.get("Condition", {}).get("StringEquals", {}).get(RESTORE_TARGET_TAG) == "true"
    prefixed = all(
        re.search(rf":table/{re.escape(RESTORE_TABLE_PREFIX)}\*$", r) for r in as_list(statement["Resource"])
    )
    return tagged or prefixed


def pitr_drill_target(statement: dict[str, Any]) -> bool:
    """The one statement that lets RestoreTableToPointInTime create a drill table: exactly the item actions AWS checks
    on a restore's new table (parliament's dependent actions), on drill tables only."""
    dependent = dependent_actions("dynamodb:RestoreTableToPointInTime")
    return (
        statement["Sid"] == "RestoreDrillTablesToPointInTime"
        and drill_scoped(statement)
        and set(as_list(statement["Action"])) == dependent
    )


@pytest.mark.parametrize("policy", [BOT_POLICY, MEMBER_POLICY], ids=lambda p: p.name)
def test_item_writes_and_new_tables_only_on_restore_targets(policy: Path) -> None:
    grants = allowed(policy)
    problems = [
        f"{s['Sid']}: {action} on {s['Resource']} is neither tagged restore-target nor table/{RESTORE_TABLE_PREFIX}*"
        for action in sorted(ITEM_WRITES | CREATES_TABLES)
        for s in grants.get(action, [])
        if not (item_write_scoped(s) or (action in CREATES_TABLES and drill_scoped(s)) or pitr_drill_target(s))
        or (action in CREATES_TABLES and "Condition" in s)
    ]
    assert not problems, "\n".join(problems)
    reads = grants["dynamodb:GetItem"] + grants["dynamodb:Scan"]
    assert all(item_write_scoped(s) or pitr_drill_target(s) for s in reads)


@pytest.mark.parametrize("policy", [BOT_POLICY, MEMBER_POLICY], ids=lambda p: p.name)
def test_pitr_changes_only_on_tables_tagged_as_managed(policy: Path) -> None:
    grants = allowed(policy)["dynamodb:UpdateContinuousBackups"]
    assert grants
    for statement in grants:
        assert statement.get("Condition") == {"StringEquals": {MANAGED_TAG: "true"}}, statement["Sid"]


@pytest.mark.parametrize("policy", [BOT_POLICY, MEMBER_POLICY], ids=lambda p: p.name)
def test_imports_are_followed_only_on_restore_targets_and_exports_on_export_arns(policy: Path) -> None:
    grants = allowed(policy)
    for statement in grants["dynamodb:DescribeImport"]:
        assert all(
            r.endswith((f":table/{RESTORE_TABLE_PREFIX}*/import/*", f":table/{DRILL_TABLES}/import/*"))
            for r in as_list(statement["Resource"])
        )
    for statement in grants["dynamodb:DescribeExport"]:
        assert all(r.endswith(":table/*/export/*") for r in as_list(statement["Resource"]))


def test_assume_role_names_each_account_never_a_wildcard() -> None:
    grants = allowed(BOT_POLICY)["sts:AssumeRole"]
    assert grants
    for statement in grants:
        for arn in as_list(statement["Resource"]):
            account = arn.split(":")[4]
            assert "*" not in account and account, f"{statement['Sid']}: {arn} must name an account"
    assert "sts:AssumeRole" not in allowed(MEMBER_POLICY), "a member role never assumes further roles"


def test_the_bucket_refuses_requests_without_tls() -> None:
    (bucket,) = {r for s in allowed(BUCKET_POLICY)["s3:ListBucket"] for r in as_list(s["Resource"]) if "/" not in r}
    denies = [s for s in statements(BUCKET_POLICY) if s["Effect"] == "Deny"]
    assert any(
        s.get("Principal") == "*"
        and as_list(s["Action"]) == ["s3:*"]
        and set(as_list(s["Resource"])) == {bucket, f"{bucket}/*"}
        and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in denies
    ), f"no statement denies s3:* on {bucket} and its objects when aws:SecureTransport is false"


def test_the_bucket_policy_sids_the_code_names_exist() -> None:
    named = {match for path in code_files() for match in re.findall(r"`(AllowDdbBackupBot\w+)`", path.read_text())}
    assert named, "the code no longer names a bucket-policy statement; drop this test"
    assert named <= {s.get("Sid") for s in statements(BUCKET_POLICY)}


def test_the_scan_finds_a_call_wherever_it_moves_and_the_policy_check_names_it(tmp_path: Path) -> None:
    probe = tmp_path / "bot" / "somewhere" / "new_feature.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        "def f(session, client):\n"
        "    session.client('dynamodb').delete_backup(BackupArn='x')\n"
        "    client.get_waiter('table_not_exists').wait(TableName='t')\n"
        "    return 'DynamoDB_20120810.UpdateTable'\n"
    )
    before = required_actions(aws_calls())
    after = required_actions(aws_calls([*code_files(), probe]))
    assert after.keys() - before.keys() == {"dynamodb:DeleteBackup", "dynamodb:UpdateTable"}
    assert any("new_feature.py:3" in where for where in after["dynamodb:DescribeTable"])  # the waiter's operation
    problems = missing_and_unused(after, set(allowed(BOT_POLICY)), BOT_POLICY.name)
    assert any(p.startswith("the code calls dynamodb:DeleteBackup (") for p in problems)


@pytest.mark.parametrize("policy", [BOT_POLICY, MEMBER_POLICY], ids=lambda p: p.name)
def test_tables_are_deleted_only_when_tagged_as_drill_tables_and_tagged_only_with_the_drill_tag(policy: Path) -> None:
    """Or, for the table a cancelled ImportTable or PITR restore created, only among the tables restores create
    (`table/restored-*`; the bot checks the table's ARN and id before it deletes)."""
    grants = allowed(policy)
    restored = [s for s in grants["dynamodb:DeleteTable"] if s["Sid"] == "DeleteTablesOfCancelledRestores"]
    assert len(restored) == 1 and item_write_scoped(restored[0]) and "Condition" not in restored[0]
    assert all(r.endswith(f":table/{RESTORE_TABLE_PREFIX}*") for r in as_list(restored[0]["Resource"]))
    repairs = [s for s in grants["dynamodb:BatchGetItem"] if item_write_scoped(s)]  # /ddb-recover's live reads
    assert all("dynamodb:DeleteTable" not in as_list(s["Action"]) for s in repairs)
    others = [s for s in grants["dynamodb:DeleteTable"] if s not in restored]
    for statement in others + [s for s in grants["dynamodb:BatchGetItem"] if s not in repairs]:
        assert drill_scoped(statement), statement["Sid"]
        assert statement.get("Condition") == {"StringLike": {f"aws:ResourceTag/{DRILL_TAG}": "d-*"}}, statement["Sid"]
    for statement in grants["dynamodb:TagResource"]:
        assert drill_scoped(statement), statement["Sid"]
        assert statement.get("Condition") == {"ForAllValues:StringEquals": {"aws:TagKeys": [DRILL_TAG]}}
