# --- an alert when anyone turns PITR off (CloudTrail management events through EventBridge) --------------
# EventBridge sees the API calls of its own account and region only, and only while a CloudTrail trail
# logs management events: apply this in every account and region that holds tables.

locals {
  # Same pattern as deploy/eventbridge-pitr-disabled.json.
  pitr_disabled_event_pattern = {
    source        = ["aws.dynamodb"]
    "detail-type" = ["AWS API Call via CloudTrail"]
    detail = {
      eventSource = ["dynamodb.amazonaws.com"]
      eventName   = ["UpdateContinuousBackups"]
      requestParameters = {
        pointInTimeRecoverySpecification = {
          pointInTimeRecoveryEnabled = [false]
        }
      }
    }
  }
}

resource "aws_sns_topic" "pitr_alert" {
  count = var.create_pitr_alert ? 1 : 0

  name = "ddb-backup-bot-pitr-disabled"
  tags = var.tags
}

data "aws_iam_policy_document" "pitr_alert_topic" {
  count = var.create_pitr_alert ? 1 : 0

  statement {
    sid       = "AllowEventBridgeToPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.pitr_alert[0].arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.pitr_disabled[0].arn]
    }
  }
}

resource "aws_sns_topic_policy" "pitr_alert" {
  count = var.create_pitr_alert ? 1 : 0

  arn    = aws_sns_topic.pitr_alert[0].arn
  policy = data.aws_iam_policy_document.pitr_alert_topic[0].json
}

resource "aws_sns_topic_subscription" "pitr_alert_email" {
  for_each = var.create_pitr_alert ? toset(var.pitr_alert_emails) : toset([])

  topic_arn = aws_sns_topic.pitr_alert[0].arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_event_rule" "pitr_disabled" {
  count = var.create_pitr_alert ? 1 : 0

  name          = "ddb-backup-bot-pitr-disabled"
  description   = "Someone called UpdateContinuousBackups with PointInTimeRecoveryEnabled=false"
  event_pattern = jsonencode(local.pitr_disabled_event_pattern)
  tags          = var.tags
}

resource "aws_cloudwatch_event_target" "pitr_disabled" {
  count = var.create_pitr_alert ? 1 : 0

  rule      = aws_cloudwatch_event_rule.pitr_disabled[0].name
  target_id = "sns"
  arn       = aws_sns_topic.pitr_alert[0].arn
}
