"""handlers.pitr: /ddb-pitr."""
