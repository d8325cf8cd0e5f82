"""The receiver's own Prometheus metrics, all in one registry served at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

REGISTRY = CollectorRegistry(auto_describe=True)
