"""bot.wiring."""
