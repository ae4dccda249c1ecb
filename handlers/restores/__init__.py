"""handlers.restores."""
