"""The Slack surface of /ddb-retention."""
