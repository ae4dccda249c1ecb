# Inputs of the ddb-backup-bot IAM module. Apply it once per account, with that account's provider:
#   the bot's account        role_kind = "bot"     (+ create_pitr_alert)
#   each aliased account     role_kind = "member"  (+ create_pitr_alert)
#   the backup account       role_kind = "none", manage_bucket_policy = true
# The defaults produce exactly the JSON documents in deploy/ (a unit test checks it).

variable "role_kind" {
  description = "Which role to create in this account: \"bot\" (the role the bot runs as), \"member\" (assumed by the bot through an account alias) or \"none\"."
  type        = string
  default     = "bot"

  validation {
    condition     = contains(["bot", "member", "none"], var.role_kind)
    error_message = "role_kind must be \"bot\", \"member\" or \"none\"."
  }
}

variable "role_name" {
  description = "Name of the bot's role, the same in every account (the config file's role_arn ends in it)."
  type        = string
  default     = "ddb-backup-bot"
}

variable "bot_account_id" {
  description = "The 12-digit id of the account the bot runs in. Required for role_kind = \"member\" and for the bucket policy."
  type        = string
  default     = null

  validation {
    condition     = var.bot_account_id == null || can(regex("^[0-9]{12}$", var.bot_account_id))
    error_message = "bot_account_id must be a 12-digit AWS account id."
  }
}

variable "member_account_ids" {
  description = "Accounts the bot reaches through aliases. The bot's role may assume role_name in these accounts only; the bucket policy admits their roles."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.member_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "member_account_ids must be 12-digit AWS account ids (no wildcards)."
  }
}

variable "external_id" {
  description = "External id the member role requires (the config file's external_id). Required for role_kind = \"member\"."
  type        = string
  default     = null
  sensitive   = true
}

variable "bot_trusted_services" {
  description = "Service principals that may assume the bot's role (ECS tasks by default; ec2.amazonaws.com for an instance profile)."
  type        = list(string)
  default     = ["ecs-tasks.amazonaws.com"]
}

variable "bot_assume_role_policy" {
  description = "A complete trust policy (JSON) for the bot's role, e.g. for EKS IRSA; replaces bot_trusted_services when set."
  type        = string
  default     = null
}

variable "export_bucket" {
  description = "The S3 bucket exports are written to (DDBBOT_EXPORT_BUCKET)."
  type        = string
}

variable "export_prefix" {
  description = "Key prefix of the exports in that bucket (DDBBOT_EXPORT_PREFIX), without slashes at either end."
  type        = string
  default     = "dynamodb-exports"

  validation {
    condition     = can(regex("^[^/*][^*]*[^/*]$", var.export_prefix))
    error_message = "export_prefix must be non-empty, without a leading or trailing slash and without wildcards."
  }
}

variable "restore_table_prefix" {
  description = "Tables created by a restore (ImportTable, PITR restore) must have names starting with this (DDBBOT_RESTORE_TABLE_PREFIX)."
  type        = string
  default     = "restored-"

  validation {
    # An empty prefix would turn table/<prefix>* into table/*: every table.
    condition     = can(regex("^[A-Za-z0-9_.-]{1,200}$", var.restore_table_prefix))
    error_message = "restore_table_prefix must be 1-200 characters of A-Z a-z 0-9 _ . - (never empty)."
  }
}

variable "managed_tag_key" {
  description = "Tag that marks tables on which the bot may change PITR (UpdateContinuousBackups)."
  type        = string
  default     = "ddb-backup-bot:managed"
}

variable "managed_tag_value" {
  description = "Value of managed_tag_key that allows it."
  type        = string
  default     = "true"
}

variable "restore_target_tag_key" {
  description = "Tag that marks existing tables the bot may load exports into (restore into=)."
  type        = string
  default     = "ddb-backup-bot:restore-target"
}

variable "restore_target_tag_value" {
  description = "Value of restore_target_tag_key that allows it."
  type        = string
  default     = "true"
}

variable "manage_bucket_policy" {
  description = "Attach the cross-account bucket policy to export_bucket (it replaces the bucket's policy; otherwise merge the bucket_policy_json output yourself)."
  type        = bool
  default     = false
}

variable "create_pitr_alert" {
  description = "Create the EventBridge rule and SNS topic that alert when anyone turns PITR off in this account and region."
  type        = bool
  default     = true
}

variable "pitr_alert_emails" {
  description = "E-mail addresses subscribed to the PITR alert topic (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource the module creates."
  type        = map(string)
  default     = {}
}
