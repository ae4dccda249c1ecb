"""bot.exports."""
