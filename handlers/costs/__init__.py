"""handlers.costs: /ddb-cost."""
