"""bot.aws."""
