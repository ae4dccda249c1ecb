"""Offline linters on the deploy/ documents: parliament on every IAM policy, cfn-lint on the CloudFormation template.

Parliament (Duo Labs) runs with its community auditors. A finding above LOW fails, unless it is one of the
exceptions below, each with its reason; an exception that no longer occurs fails too, so the list stays true.
"""

from __future__ import annotations

import json
from pathlib import Path

import parliament
import pytest
from cfnlint.api import ManualArgs, lint_file
from parliament import analyze_policy_string, enhance_finding, override_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NOT_POLICIES = {"eventbridge-pitr-disabled.json", "ecs-task-definition.json"}  # checked by their own tests
POLICIES = sorted(p for p in DEPLOY.glob("*.json") if p.name not in NOT_POLICIES)
TEMPLATE = DEPLOY / "cloudformation" / "ddb-backup-bot-iam.yaml"

# Placeholders of the JSON documents, replaced by well-formed values so ARNs parse.
PLACEHOLDERS = {
    "MEMBER_ACCOUNT_ID": "222222222222",
    "BOT_ACCOUNT_ID": "111111111111",
    "ACCOUNT_ID": "111111111111",
    "YOUR-BACKUP-BUCKET": "acme-ddb-backups",
    "YOUR-EXTERNAL-ID": "a-random-external-id",
}

SEVERITY = {"INFO": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}

# Actions newer than parliament's and cfn-lint's offline action lists (DynamoDB's bulk put). Parliament reports an
# unknown action and then runs none of its other auditors on the document, so they are taken out of the documents
# before linting (and their presence is checked by tests/unit/test_deploy_iam_code.py); cfn-lint's W3037 on them
# is expected. Once the linters know them, the checks below say so and this list goes.
NEWER_THAN_LINTERS = frozenset(
    {
        "dynamodb:StartBulkPutItems",
        "dynamodb:DescribeBulkOperation",
        "dynamodb:ListBulkOperations",
        "dynamodb:CancelBulkOperation",
    }
)

# (file, issue, what the finding names) → why it is accepted.
EXCEPTIONS = {
    ("iam-policy.json", "CREDENTIALS_EXPOSURE", "sts:assumerole"): (
        "Account aliases: the bot assumes ddb-backup-bot in the listed member accounts only (no iam::*), "
        "and those roles trust only the bot's role with the external id."
    ),
    ("iam-policy.json", "PERMISSIONS_MANAGEMENT_ACTIONS", "s3:putobjectacl"): (
        "DynamoDB's export requires s3:PutObjectAcl of the caller; limited to the export prefix. With Object "
        "Ownership set to bucket owner enforced, ACLs have no effect."
    ),
    ("iam-policy-member-account.json", "PERMISSIONS_MANAGEMENT_ACTIONS", "s3:putobjectacl"): "As above.",
    ("cross-account-bucket-policy.json", "PERMISSIONS_MANAGEMENT_ACTIONS", "s3:putobjectacl"): "As above.",
    ("iam-trust-policy-member-account.json", "MALFORMED", "Statement contains neither Resource nor NotResource"): (
        "Parliament reads every document as a permissions policy; a role's trust policy has no Resource, by "
        "definition (IAM rejects one that has)."
    ),
}


# As `parliament --include-community-auditors` does: the community auditors' findings get their severities.
override_config(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")


def without_newer_actions(text: str) -> str:
    """The document with NEWER_THAN_LINTERS taken out of every statement (one left with no action is dropped)."""
    document = json.loads(text)
    kept = []
    for statement in document.get("Statement", []):
        actions = statement.get("Action")
        if actions is None:
            kept.append(statement)
            continue
        remaining = [a for a in (actions if isinstance(actions, list) else [actions]) if a not in NEWER_THAN_LINTERS]
        if remaining:
            kept.append({**statement, "Action": remaining if isinstance(actions, list) else remaining[0]})
    return json.dumps({**document, "Statement": kept})


def test_the_linters_still_do_not_know_the_newer_actions() -> None:
    """When parliament learns DynamoDB's bulk put actions, NEWER_THAN_LINTERS is no longer needed."""
    statement = {"Effect": "Allow", "Action": sorted(NEWER_THAN_LINTERS), "Resource": "*"}
    policy = analyze_policy_string(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    assert {str(f.location.get("string")) for f in policy.findings if f.issue == "UNKNOWN_ACTION"} == set(
        NEWER_THAN_LINTERS
    )


def findings(path: Path) -> set[tuple[str, str, str]]:
    """Parliament's findings above LOW as (file, issue, the action or text it names)."""
    text = without_newer_actions(path.read_text())
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    policy = analyze_policy_string(text, str(path), ignore_private_auditors=True, include_community_auditors=True)
    found = set()
    for finding in map(enhance_finding, policy.findings):
        if SEVERITY[finding.severity] > SEVERITY["LOW"]:
            detail = finding.detail if isinstance(finding.detail, str) else ""
            names = finding.location.get("actions") or [detail or str(finding.detail)]
            found |= {(path.name, finding.issue, str(name)) for name in names}
    return found


def test_every_iam_document_in_deploy_is_linted() -> None:
    assert {p.name for p in POLICIES} == {
        "iam-policy.json",
        "iam-policy-member-account.json",
        "iam-trust-policy-member-account.json",
        "cross-account-bucket-policy.json",
    }


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_parliament_finds_nothing_above_low_but_the_justified_exceptions(policy: Path) -> None:
    found = findings(policy)
    expected = {key for key in EXCEPTIONS if key[0] == policy.name}
    assert found - expected == set(), "parliament findings above LOW (fix them or justify them in EXCEPTIONS)"
    assert expected - found == set(), "exceptions that no longer occur: remove them from EXCEPTIONS"


def test_cloudformation_template_passes_cfn_lint() -> None:
    matches = lint_file(TEMPLATE, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    newer = {action.split(":")[1].lower() for action in NEWER_THAN_LINTERS}
    unknown = [m for m in matches if m.rule.id == "W3037" and any(f"'{name}'" in m.message for name in newer)]
    assert [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches if m not in unknown] == []
