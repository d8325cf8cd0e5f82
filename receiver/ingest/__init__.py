"""Alertmanager webhook ingestion: parse, validate, and durably commit."""
