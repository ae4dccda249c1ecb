"""tests.unit.drills."""
