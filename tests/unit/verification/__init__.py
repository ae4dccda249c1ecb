"""tests.unit.verification."""
