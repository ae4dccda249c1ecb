"""handlers.drills: /ddb-drill."""
