"""tocsin receiver: durable, deduplicating, escalating Alertmanager webhook receiver."""

__version__ = "0.1.0"
