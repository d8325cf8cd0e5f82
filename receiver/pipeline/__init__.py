"""Processing stages: dedup, routing, escalation, storm control and digests."""
