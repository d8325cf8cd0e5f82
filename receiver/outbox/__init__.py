"""Everything about outbox rows: create, throttle, fold into digests, send, record,
backoff and dead letters; the worker drives them."""
