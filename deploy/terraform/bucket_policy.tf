# --- the export bucket's policy (in the backup account) ---------------------------------------------------
data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["arn:${local.partition}:s3:::${var.export_bucket}", "arn:${local.partition}:s3:::${var.export_bucket}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # The bot names this Sid when a cross-account export is refused (bot/exports/start.py).
  statement {
    sid       = "AllowDdbBackupBotExports"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"]
    resources = ["arn:${local.partition}:s3:::${var.export_bucket}/${var.export_prefix}/*"]

    principals {
      type        = "AWS"
      identifiers = concat([local.bot_role_arn], local.member_role_arns)
    }
  }

  statement {
    sid       = "AllowDdbBackupBotReads"
    actions = [
      "s3:GetObject",
      "s3:ListBucket",
      "s3:GetBucketLocation",
      "s3:GetLifecycleConfiguration",
      "s3:GetBucketVersioning",
      "s3:GetBucketObjectLockConfiguration",
      "s3:ListBucketVersions",
    ]
    resources = ["arn:${local.partition}:s3:::${var.export_bucket}", "arn:${local.partition}:s3:::${var.export_bucket}/${var.export_prefix}/*"]

    principals {
      type        = "AWS"
      identifiers = concat([local.bot_role_arn], local.member_role_arns)
    }
  }

  # /ddb-retention … delete, once a second person approved it.
  statement {
    sid       = "AllowDdbBackupBotEarlyDeletions"
    actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = ["arn:${local.partition}:s3:::${var.export_bucket}/${var.export_prefix}/*"]

    principals {
      type        = "AWS"
      identifiers = concat([local.bot_role_arn], local.member_role_arns)
    }
  }
}

resource "aws_s3_bucket_policy" "exports" {
  count = var.manage_bucket_policy ? 1 : 0

  bucket = var.export_bucket
  policy = data.aws_iam_policy_document.bucket.json

  lifecycle {
    precondition {
      condition     = var.bot_account_id != null
      error_message = "manage_bucket_policy needs bot_account_id (the account whose role writes the exports)."
    }
  }
}
