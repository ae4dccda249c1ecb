"""bot.loader."""
