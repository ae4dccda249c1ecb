"""Local stand-ins that let the bot run end to end without a Slack workspace."""
