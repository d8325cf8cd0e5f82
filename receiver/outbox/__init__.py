"""Delivery of stored notifications: retries, backoff, rate limits, digests, dead letters."""
