"""Recover exactly what was lost, in place: one item or one partition as it was at a time (`/ddb-item`,
`/ddb-recover`), or every change of a bad deploy's window undone (`/ddb-revert`), never overwriting a later change.

keys (typed item keys), conditions (what DynamoDB checks at write time), diff (item states compared), actions (one
repair per key and how its live state decides it), writer (conditional writes), export reading, the preparation of
a lookup or a plan (exports started and followed as claimed work), the planner and executor that plug the repairs
into bot/restores' requests, approvals and runner.
"""
