"""Active probes (HTTP, TCP, TLS) with per-phase timings, used by the probes collector."""
