"""The Slack surface of the export catalogue: `/ddb-catalog`."""
