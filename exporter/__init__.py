"""tocsin exporter: node_exporter-compatible host metrics plus application and security metrics."""

__version__ = "0.1.0"
