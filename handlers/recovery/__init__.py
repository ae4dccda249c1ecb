"""handlers.recovery."""
