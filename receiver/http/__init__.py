"""What the HTTP handlers of `api/` and `ingest/` share: auth, JSON errors, capped bodies,
correlation ids, the SSE event hub and the state handlers read."""
