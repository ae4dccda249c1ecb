"""bot.restores."""
