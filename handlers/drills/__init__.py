"""handlers.drills: /ddb-verify and /ddb-drill."""
