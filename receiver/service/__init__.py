"""Service set-up: start and stop the receiver's parts, and the aiohttp application."""
