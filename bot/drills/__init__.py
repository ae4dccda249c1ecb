"""bot.drills: export verification and restore drills."""
