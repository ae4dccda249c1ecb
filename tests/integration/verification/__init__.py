"""tests.integration.verification."""
