"""tests.integration.drills."""
