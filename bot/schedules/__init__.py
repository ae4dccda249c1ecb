"""bot.schedules."""
