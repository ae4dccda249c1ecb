"""handlers.exports: /ddb-export and /ddb-status, and export results posted to channels."""
