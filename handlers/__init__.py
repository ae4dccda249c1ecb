"""The Slack surface: listeners that acknowledge, call one use case and render Block Kit."""
