# ddb-backup-bot: least-privilege IAM as code. The statements mirror deploy/iam-policy.json,
# deploy/iam-policy-member-account.json, deploy/iam-trust-policy-member-account.json and
# deploy/cross-account-bucket-policy.json (tests/unit/test_deploy_iac.py compares them).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  bot_role_arn     = "arn:${local.partition}:iam::${coalesce(var.bot_account_id, local.account_id)}:role/${var.role_name}"
  member_role_arns = [for id in var.member_account_ids : "arn:${local.partition}:iam::${id}:role/${var.role_name}"]
}

# --- the permissions every ddb-backup-bot role needs in its own account --------------------------------
data "aws_iam_policy_document" "table_access" {
  statement {
    sid       = "ReadTablesAndPitr"
    actions   = ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*"]
  }

  statement {
    sid       = "ReadSourceTableSettings"
    actions   = ["dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*"]
  }

  statement {
    sid       = "ReadSourceAutoScaling"
    actions   = ["application-autoscaling:DescribeScalableTargets"]
    resources = ["*"] # DescribeScalableTargets has no resource-level permissions
  }

  # UpdateContinuousBackups can also turn PITR off: only on tables tagged as managed by the bot.
  statement {
    sid       = "EnablePitrOnManagedTables"
    actions   = ["dynamodb:UpdateContinuousBackups"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${var.managed_tag_key}"
      values   = [var.managed_tag_value]
    }
  }

  statement {
    sid       = "StartExports"
    actions   = ["dynamodb:ExportTableToPointInTime"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*"]
  }

  statement {
    sid       = "FollowExports"
    actions   = ["dynamodb:DescribeExport"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*/export/*"]
  }

  statement {
    sid       = "AwsBackupCoverage"
    actions   = ["backup:ListProtectedResources"]
    resources = ["*"] # no resource-level permissions; /ddb-coverage says "not checked" without it
  }

  statement {
    sid       = "ListTablesExportsAndImports"
    actions   = ["dynamodb:ListTables", "dynamodb:ListExports", "dynamodb:ListImports", "dynamodb:ListBulkOperations"]
    resources = ["*"] # none of these actions supports resource-level permissions
  }

  # ImportTable creates the table: tags cannot be conditioned before it exists, so the name is.
  statement {
    sid       = "RestoreByImportTable"
    actions   = ["dynamodb:ImportTable"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/${var.restore_table_prefix}*"]
  }

  statement {
    sid       = "FollowImports"
    actions   = ["dynamodb:DescribeImport"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/${var.restore_table_prefix}*/import/*"]
  }

  # Authorized on the source table; DynamoDB also requires the item permissions below on the new table,
  # which is what confines a PITR restore's target to the prefix.
  statement {
    sid       = "RestoreToPointInTime"
    actions   = ["dynamodb:RestoreTableToPointInTime"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*"]
  }

  statement {
    sid = "WriteNewRestoredTables"
    actions = [
      "dynamodb:BatchWriteItem",
      "dynamodb:StartBulkPutItems",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:Query",
      "dynamodb:Scan",
    ]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/${var.restore_table_prefix}*"]
  }

  # The loader (restore into=) writes only into existing tables an operator tagged as restore targets.
  statement {
    sid       = "LoadIntoRestoreTargets"
    actions   = ["dynamodb:BatchWriteItem"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${var.restore_target_tag_key}"
      values   = [var.restore_target_tag_value]
    }
  }

  # `into=` on DynamoDB's bulk put: started only on tables tagged as restore targets (as the loader's writes);
  # the operation's ARN format is not documented, so following and cancelling it is granted under table/*.
  statement {
    sid       = "BulkPutIntoRestoreTargets"
    actions   = ["dynamodb:StartBulkPutItems"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${var.restore_target_tag_key}"
      values   = [var.restore_target_tag_value]
    }
  }

  statement {
    sid       = "FollowAndCancelBulkPuts"
    actions   = ["dynamodb:DescribeBulkOperation", "dynamodb:CancelBulkOperation"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*"]
  }

  # A cancelled ImportTable or point-in-time restore may delete the table it created (only tables restores create).
  statement {
    sid       = "DeleteTablesOfCancelledRestores"
    actions   = ["dynamodb:DeleteTable"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/${var.restore_table_prefix}*"]
  }

  # /ddb-item, /ddb-recover, /ddb-revert read the live items and write each one back only under a condition
  # (PutItem/DeleteItem with ConditionExpression), on the same tagged restore targets.
  statement {
    sid = "RepairRestoreTargets"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
    ]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${var.restore_target_tag_key}"
      values   = [var.restore_target_tag_value]
    }
  }

  # Restore drills: ImportTable into `<table>-drill-<stamp>`, tagged with the drill tag (and no other key);
  # reading the sample back and deleting only while the table carries that tag.
  statement {
    sid       = "DrillImportTable"
    actions   = ["dynamodb:ImportTable"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*-drill-*"]
  }

  statement {
    sid       = "FollowDrillImports"
    actions   = ["dynamodb:DescribeImport"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*-drill-*/import/*"]
  }

  statement {
    sid       = "TagDrillTables"
    actions   = ["dynamodb:TagResource"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*-drill-*"]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = ["ddb-backup-bot:drill"]
    }
  }

  statement {
    sid       = "ReadAndDeleteDrillTables"
    actions   = ["dynamodb:BatchGetItem", "dynamodb:DeleteTable"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*-drill-*"]

    condition {
      test     = "StringLike"
      variable = "aws:ResourceTag/ddb-backup-bot:drill"
      values   = ["d-*"]
    }
  }

  # PITR drills: RestoreTableToPointInTime checks these item actions on the new `<table>-drill-<stamp>` table, which
  # exists (untagged) only once the restore runs; the bot itself only counts its items (Scan with Select=COUNT).
  statement {
    sid = "RestoreDrillTablesToPointInTime"
    actions = [
      "dynamodb:BatchWriteItem",
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:UpdateItem",
    ]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/*-drill-*"]
  }

  # DynamoDB writes an export with the caller's permissions.
  statement {
    sid       = "WriteExportsToBucket"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"]
    resources = ["arn:${local.partition}:s3:::${var.export_bucket}/${var.export_prefix}/*"]
  }

  statement {
    sid       = "ReadExportsFromBucket"
    actions   = ["s3:GetObject"]
    resources = ["arn:${local.partition}:s3:::${var.export_bucket}/${var.export_prefix}/*"]
  }

  statement {
    sid       = "ListBucket"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${var.export_bucket}"]
  }

  # /ddb-retention reads what the bucket keeps (lifecycle, versioning, Object Lock)...
  statement {
    sid = "ReadBucketRetention"
    actions = [
      "s3:GetLifecycleConfiguration",
      "s3:GetBucketVersioning",
      "s3:GetBucketObjectLockConfiguration",
      "s3:ListBucketVersions",
    ]
    resources = ["arn:${local.partition}:s3:::${var.export_bucket}"]
  }

  # ...and deletes an export early once a second person approved it.
  statement {
    sid       = "DeleteExportsEarlyAfterApproval"
    actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = ["arn:${local.partition}:s3:::${var.export_bucket}/${var.export_prefix}/*"]
  }

  # kms= on exports: the key's region is checked against the bucket's before an export starts.
  statement {
    sid       = "FindBucketRegion"
    actions   = ["s3:GetBucketLocation"]
    resources = ["arn:${local.partition}:s3:::${var.export_bucket}"]
  }

  statement {
    sid       = "FindKmsKeyRegion"
    actions   = ["kms:DescribeKey"]
    resources = ["arn:${local.partition}:kms:*:*:key/*"]
  }

  # SSE-KMS exports: DynamoDB writes with GenerateDataKey, and every read of the objects (restores, verification,
  # drills, the catalogue) decrypts; only through S3, never directly.
  statement {
    sid       = "UseKmsKeysThroughS3"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = ["arn:${local.partition}:kms:*:*:key/*"]

    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["s3.*.amazonaws.com"]
    }
  }

  # ImportTable logs rejected items to /aws-dynamodb/imports with the caller's permissions.
  statement {
    sid = "ImportTableLogs"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
      "logs:PutRetentionPolicy",
    ]
    resources = ["arn:${local.partition}:logs:*:${local.account_id}:log-group:/aws-dynamodb/*"]
  }

  statement {
    sid       = "ImportTableLogGroupLookup"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["*"] # DescribeLogGroups is authorized on * only
  }

  statement {
    sid       = "WhoAmI"
    actions   = ["sts:GetCallerIdentity"]
    resources = ["*"]
  }
}

# --- what only the bot's own role does: assume the member roles, read the Price List ---------------------
data "aws_iam_policy_document" "bot_only" {
  dynamic "statement" {
    for_each = length(var.member_account_ids) > 0 ? [1] : []

    content {
      sid       = "AssumeAliasedAccountRoles"
      actions   = ["sts:AssumeRole"]
      resources = local.member_role_arns # listed account ids, never iam::*
    }
  }

  statement {
    sid       = "PriceList"
    actions   = ["pricing:GetProducts"]
    resources = ["*"] # the Price List API has no resources
  }
}

data "aws_iam_policy_document" "bot" {
  source_policy_documents = [data.aws_iam_policy_document.table_access.json, data.aws_iam_policy_document.bot_only.json]
}

data "aws_iam_policy_document" "bot_trust" {
  statement {
    sid     = "AllowComputeToAssume"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = var.bot_trusted_services
    }
  }
}

resource "aws_iam_role" "bot" {
  count = var.role_kind == "bot" ? 1 : 0

  name               = var.role_name
  description        = "ddb-backup-bot: DynamoDB PITR, exports, approved restores (runs the bot)"
  assume_role_policy = coalesce(var.bot_assume_role_policy, data.aws_iam_policy_document.bot_trust.json)
  tags               = var.tags
}

resource "aws_iam_role_policy" "bot" {
  count = var.role_kind == "bot" ? 1 : 0

  name   = "ddb-backup-bot"
  role   = aws_iam_role.bot[0].id
  policy = data.aws_iam_policy_document.bot.json
}

# --- a member account's role, assumed by the bot's role with the external id -----------------------------
data "aws_iam_policy_document" "member_trust" {
  statement {
    sid     = "AllowDdbBackupBotToAssume"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = [local.bot_role_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [coalesce(var.external_id, "unset")]
    }
  }
}

resource "aws_iam_role" "member" {
  count = var.role_kind == "member" ? 1 : 0

  name               = var.role_name
  description        = "ddb-backup-bot: assumed by the bot's role in account ${coalesce(var.bot_account_id, "unset")}"
  assume_role_policy = data.aws_iam_policy_document.member_trust.json
  tags               = var.tags

  lifecycle {
    precondition {
      condition     = var.bot_account_id != null && var.bot_account_id != local.account_id
      error_message = "role_kind = \"member\" needs bot_account_id, the id of the (other) account the bot runs in."
    }
    precondition {
      condition     = length(var.external_id == null ? "" : var.external_id) >= 16
      error_message = "role_kind = \"member\" needs external_id, a random string of at least 16 characters."
    }
  }
}

resource "aws_iam_role_policy" "member" {
  count = var.role_kind == "member" ? 1 : 0

  name   = "ddb-backup-bot"
  role   = aws_iam_role.member[0].id
  policy = data.aws_iam_policy_document.table_access.json
}
