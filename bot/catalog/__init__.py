"""The export catalogue: every export of a table the bot can see, kept beyond DynamoDB's 90 days."""
