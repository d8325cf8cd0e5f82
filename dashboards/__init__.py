"""Grafana dashboards for tocsin, generated from Python (see `dashboards.generate`)."""
