"""handlers.verification: /ddb-verify."""
