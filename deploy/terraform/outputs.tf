output "role_arn" {
  description = "ARN of the role created here (the bot's or the member's); null with role_kind = \"none\"."
  value       = try(aws_iam_role.bot[0].arn, aws_iam_role.member[0].arn, null)
}

output "bot_policy_json" {
  description = "The bot role's permissions policy."
  value       = data.aws_iam_policy_document.bot.json
}

output "member_policy_json" {
  description = "A member role's permissions policy."
  value       = data.aws_iam_policy_document.table_access.json
}

output "bucket_policy_json" {
  description = "The export bucket's policy, to merge by hand when manage_bucket_policy is false."
  value       = data.aws_iam_policy_document.bucket.json
}

output "pitr_alert_topic_arn" {
  description = "SNS topic that receives the PITR-disabled alerts (subscribe a pager or chat integration)."
  value       = try(aws_sns_topic.pitr_alert[0].arn, null)
}
