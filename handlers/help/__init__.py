"""handlers.help: /ddb-help, every command with what it does."""
