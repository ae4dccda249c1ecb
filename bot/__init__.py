"""ddb-backup-bot: DynamoDB PITR, exports, costs, approved restores and schedules, from Slack."""

__version__ = "0.1.0"
