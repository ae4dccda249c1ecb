"""handlers.kit: what every Slack surface shares (Block Kit primitives, parsing helpers, command plumbing,
modals, Slack HTTP)."""
