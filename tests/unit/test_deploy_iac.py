"""The Terraform module and the CloudFormation template say what the JSON documents in deploy/ say.

Both are parsed (python-hcl2, cfn-lint's template decoder), their policy documents rebuilt as IAM JSON with the
variables' defaults and the JSON documents' placeholders, and compared statement by statement: actions, resources,
principals and conditions. The EventBridge pattern is compared too, and run against CloudTrail events.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
from cfnlint.decode import cfn_yaml
from hcl2 import SerializationOptions
from moto.events.models import EventPattern

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TERRAFORM = DEPLOY / "terraform"
TEMPLATE = DEPLOY / "cloudformation" / "ddb-backup-bot-iam.yaml"
PATTERN = DEPLOY / "eventbridge-pitr-disabled.json"

MEMBER_ROLE = "arn:aws:iam::MEMBER_ACCOUNT_ID:role/ddb-backup-bot"
BOT_ROLE = "arn:aws:iam::BOT_ACCOUNT_ID:role/ddb-backup-bot"
Statement = dict[str, Any]


def json_statements(name: str) -> dict[str, Statement]:
    document = json.loads((DEPLOY / name).read_text())
    assert document["Version"] == "2012-10-17"
    return canonical(document["Statement"])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def canonical(statements: list[Statement]) -> dict[str, Statement]:
    """Sid → the statement with every list sorted and every single value made a list (IAM treats both alike)."""
    out: dict[str, Statement] = {}
    for statement in statements:
        sid = statement["Sid"]
        assert sid not in out, f"duplicate Sid {sid}"
        item: Statement = {"Effect": statement.get("Effect", "Allow")}
        for key in ("Action", "Resource"):  # a trust policy has no Resource
            if key in statement:
                item[key] = sorted(as_list(statement[key]))
        if "Principal" in statement:
            principal = statement["Principal"]
            item["Principal"] = (
                "*" if principal == "*" else {kind: sorted(as_list(ids)) for kind, ids in principal.items()}
            )
        if "Condition" in statement:
            item["Condition"] = {
                test: {key: sorted(as_list(values)) for key, values in pairs.items()}
                for test, pairs in statement["Condition"].items()
            }
        out[sid] = item
    return out


# --- Terraform --------------------------------------------------------------------------------------------

HCL = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


@cache
def terraform() -> dict[str, list[Any]]:
    """Every top-level block of the module, all files together."""
    merged: dict[str, list[Any]] = {}
    for path in sorted(TERRAFORM.glob("*.tf")):
        for kind, blocks in hcl2.loads(path.read_text(), serialization_options=HCL).items():
            merged.setdefault(kind, []).extend(blocks)
    return merged


def tf_blocks(kind: str, type_: str) -> dict[str, Any]:
    return {name: body for block in terraform().get(kind, []) for name, body in block.get(type_, {}).items()}


def tf_variables() -> dict[str, Any]:
    return {name: body for block in terraform()["variable"] for name, body in block.items()}


def tf_locals() -> dict[str, Any]:
    return {name: value for block in terraform()["locals"] for name, value in block.items()}


def tf_values(account: str) -> dict[str, Any]:
    """What each expression stands for in the JSON documents: placeholders, or the variable's default."""
    values: dict[str, Any] = {f"var.{n}": v["default"] for n, v in tf_variables().items() if "default" in v}
    values |= {
        "local.partition": "aws",
        "local.account_id": account,
        "local.bot_role_arn": BOT_ROLE,
        "local.member_role_arns": [MEMBER_ROLE],
        "concat([local.bot_role_arn], local.member_role_arns)": [BOT_ROLE, MEMBER_ROLE],
        "var.export_bucket": "YOUR-BACKUP-BUCKET",
        'coalesce(var.external_id, "unset")': "YOUR-EXTERNAL-ID",
    }
    return values


def tf_resolve(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [item for v in value for item in as_list(tf_resolve(v, values))]
    if not isinstance(value, str):
        return value
    whole = re.fullmatch(r"\$\{(.+)\}", value)
    if whole and whole[1] in values:
        return values[whole[1]]

    def one(match: re.Match[str]) -> str:
        assert match[1] in values, f"the test cannot read ${{{match[1]}}}; add it to tf_values"
        return str(values[match[1]])

    return re.sub(r"\$\{([^{}]+)\}", one, value)


def tf_statement(block: dict[str, Any], values: dict[str, Any]) -> Statement:
    statement: Statement = {
        "Sid": block["sid"],
        "Effect": block.get("effect", "Allow"),
        "Action": tf_resolve(block["actions"], values),
    }
    if "resources" in block:
        statement["Resource"] = tf_resolve(block["resources"], values)
    principals = block.get("principals", [])
    if principals == [{"type": "*", "identifiers": ["*"]}]:
        statement["Principal"] = "*"
    elif principals:
        statement["Principal"] = {p["type"]: tf_resolve(p["identifiers"], values) for p in principals}
    conditions: dict[str, dict[str, Any]] = {}
    for condition in block.get("condition", []):
        key = tf_resolve(condition["variable"], values)
        conditions.setdefault(condition["test"], {})[key] = tf_resolve(condition["values"], values)
    if conditions:
        statement["Condition"] = conditions
    return statement


def tf_document(name: str, account: str) -> dict[str, Statement]:
    """One aws_iam_policy_document, dynamic statements included (as if their for_each had an item)."""
    body = tf_blocks("data", "aws_iam_policy_document")[name]
    blocks = list(body.get("statement", []))
    for dynamic in body.get("dynamic", []):
        blocks += dynamic["statement"]["content"]
    return canonical([tf_statement(block, tf_values(account)) for block in blocks])


def test_terraform_parses_and_holds_the_four_parts() -> None:
    resources = {kind: tf_blocks("resource", kind) for kind in ("aws_iam_role", "aws_iam_role_policy")}
    assert set(resources["aws_iam_role"]) == {"bot", "member"}
    assert tf_blocks("resource", "aws_s3_bucket_policy")
    assert tf_blocks("resource", "aws_cloudwatch_event_rule")
    assert tf_blocks("resource", "aws_cloudwatch_event_target")
    assert tf_blocks("resource", "aws_sns_topic")


def test_terraform_bot_role_is_the_json_bot_policy() -> None:
    bot = tf_blocks("data", "aws_iam_policy_document")["bot"]
    assert bot["source_policy_documents"] == [
        "${data.aws_iam_policy_document.table_access.json}",
        "${data.aws_iam_policy_document.bot_only.json}",
    ]
    assert tf_blocks("resource", "aws_iam_role_policy")["bot"]["policy"] == "${data.aws_iam_policy_document.bot.json}"
    rebuilt = tf_document("table_access", "ACCOUNT_ID") | tf_document("bot_only", "ACCOUNT_ID")
    assert rebuilt == json_statements("iam-policy.json")


def test_terraform_member_role_is_the_json_member_policy_and_trust() -> None:
    policy = tf_blocks("resource", "aws_iam_role_policy")["member"]["policy"]
    assert policy == "${data.aws_iam_policy_document.table_access.json}"
    assert tf_document("table_access", "MEMBER_ACCOUNT_ID") == json_statements("iam-policy-member-account.json")
    role = tf_blocks("resource", "aws_iam_role")["member"]
    assert role["assume_role_policy"] == "${data.aws_iam_policy_document.member_trust.json}"
    assert tf_document("member_trust", "MEMBER_ACCOUNT_ID") == json_statements("iam-trust-policy-member-account.json")


def test_terraform_bucket_policy_is_the_json_bucket_policy() -> None:
    assert tf_document("bucket", "BOT_ACCOUNT_ID") == json_statements("cross-account-bucket-policy.json")


def test_terraform_assumes_roles_only_in_listed_accounts() -> None:
    definition = tf_locals()["member_role_arns"]
    assert "for id in var.member_account_ids" in definition
    assert ":iam::${id}:role/" in definition
    assert "*" not in definition


@pytest.mark.parametrize(("prefix", "accepted"), [("restored-", True), ("r", True), ("", False), ("x*", False)])
def test_terraform_refuses_an_empty_restore_prefix(prefix: str, accepted: bool) -> None:
    (validation,) = tf_variables()["restore_table_prefix"]["validation"]
    pattern = re.search(r'regex\("(.+?)", var\.restore_table_prefix\)', validation["condition"])
    assert pattern, validation["condition"]
    assert bool(re.fullmatch(pattern[1].replace("\\\\", "\\"), prefix)) is accepted


def test_terraform_event_pattern_is_the_json_pattern() -> None:
    rule = tf_blocks("resource", "aws_cloudwatch_event_rule")["pitr_disabled"]
    assert rule["event_pattern"] == "${jsonencode(local.pitr_disabled_event_pattern)}"
    assert tf_locals()["pitr_disabled_event_pattern"] == json.loads(PATTERN.read_text())


# --- CloudFormation ---------------------------------------------------------------------------------------


@cache
def template() -> dict[str, Any]:
    return dict(cfn_yaml.load(str(TEMPLATE)))


TRUE_CONDITIONS = {"HasMemberAccounts", "IsBot"}


def cfn_values(account: str) -> dict[str, Any]:
    values: dict[str, Any] = {n: p["Default"] for n, p in template()["Parameters"].items() if "Default" in p}
    return values | {
        "AWS::Partition": "aws",
        "AWS::AccountId": account,
        "BotAccountId": "BOT_ACCOUNT_ID",
        "MemberAccountIds": ["MEMBER_ACCOUNT_ID"],
        "ExternalId": "YOUR-EXTERNAL-ID",
        "ExportBucket": "YOUR-BACKUP-BUCKET",
    }


NO_VALUE = object()


def cfn_resolve(node: Any, values: dict[str, Any]) -> Any:
    """Evaluate the intrinsic functions the template uses, with the JSON documents' placeholders."""
    if isinstance(node, list):
        return [r for r in (cfn_resolve(item, values) for item in node) if r is not NO_VALUE]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        return NO_VALUE if node["Ref"] == "AWS::NoValue" else values[node["Ref"]]
    if set(node) == {"Fn::Sub"}:
        text, extra = (node["Fn::Sub"], {}) if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"]
        names = values | {k: cfn_resolve(v, values) for k, v in dict(extra).items()}
        return re.sub(r"\$\{([\w:]+)\}", lambda m: str(names[m[1]]), text)
    if set(node) == {"Fn::Join"}:
        delimiter, items = node["Fn::Join"]
        return delimiter.join(as_list(cfn_resolve(items, values)))
    if set(node) == {"Fn::Split"}:
        delimiter, text = node["Fn::Split"]
        return cfn_resolve(text, values).split(delimiter)
    if set(node) == {"Fn::If"}:
        condition, yes, no = node["Fn::If"]
        return cfn_resolve(yes if condition in TRUE_CONDITIONS else no, values)
    return {key: cfn_resolve(value, values) for key, value in node.items()}


def cfn_document(resource: str, account: str, key: str = "PolicyDocument") -> dict[str, Statement]:
    document = cfn_resolve(template()["Resources"][resource]["Properties"][key], cfn_values(account))
    assert document["Version"] == "2012-10-17"
    return canonical(document["Statement"])


def test_cloudformation_bot_role_is_the_json_bot_policy() -> None:
    resources = template()["Resources"]
    assert resources["TableAccessPolicy"]["Properties"]["RoleName"] == {
        "Fn::If": ["IsBot", {"Ref": "BotRole"}, {"Ref": "MemberRole"}]
    }
    assert resources["BotOnlyPolicy"]["Properties"]["RoleName"] == {"Ref": "BotRole"}
    rebuilt = cfn_document("TableAccessPolicy", "ACCOUNT_ID") | cfn_document("BotOnlyPolicy", "ACCOUNT_ID")
    assert rebuilt == json_statements("iam-policy.json")


def test_cloudformation_member_role_is_the_json_member_policy_and_trust() -> None:
    assert cfn_document("TableAccessPolicy", "MEMBER_ACCOUNT_ID") == json_statements("iam-policy-member-account.json")
    trust = cfn_document("MemberRole", "MEMBER_ACCOUNT_ID", key="AssumeRolePolicyDocument")
    assert trust == json_statements("iam-trust-policy-member-account.json")


def test_cloudformation_bucket_policy_is_the_json_bucket_policy() -> None:
    assert cfn_document("ExportBucketPolicy", "BOT_ACCOUNT_ID") == json_statements("cross-account-bucket-policy.json")


def test_cloudformation_event_pattern_is_the_json_pattern_and_targets_the_topic() -> None:
    rule = template()["Resources"]["PitrDisabledRule"]["Properties"]
    assert cfn_resolve(rule["EventPattern"], {}) == json.loads(PATTERN.read_text())
    assert [dict(t) for t in rule["Targets"]] == [{"Id": "sns", "Arn": {"Ref": "PitrAlertTopic"}}]


# --- the alert itself -------------------------------------------------------------------------------------


def cloudtrail_event(enabled: bool, event_name: str = "UpdateContinuousBackups") -> Any:
    """An UpdateContinuousBackups call as CloudTrail hands it to EventBridge (requestParameters in camelCase)."""
    return {
        "version": "0",
        "source": "aws.dynamodb",
        "detail-type": "AWS API Call via CloudTrail",
        "account": "111111111111",
        "region": "eu-west-1",
        "detail": {
            "eventSource": "dynamodb.amazonaws.com",
            "eventName": event_name,
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111111111111:assumed-role/admin/alice"},
            "requestParameters": {
                "tableName": "orders",
                "pointInTimeRecoverySpecification": {"pointInTimeRecoveryEnabled": enabled},
            },
        },
    }


def test_the_pattern_matches_pitr_turned_off_and_nothing_else() -> None:
    pattern = EventPattern.load(PATTERN.read_text())
    assert pattern.matches_event(cloudtrail_event(enabled=False))
    assert not pattern.matches_event(cloudtrail_event(enabled=True))
    assert not pattern.matches_event(cloudtrail_event(enabled=False, event_name="UpdateTable"))
