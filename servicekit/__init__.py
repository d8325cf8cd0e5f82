"""What the exporter and the receiver share: reading and validating YAML configuration,
secrets, the logging set-up with its redaction, and the aiohttp runner.

It imports neither service; both import it.
"""
