"""handlers.schedules."""
