"""Local aiohttp servers that speak provider APIs (Slack, PagerDuty, Twilio, Discord, Teams).

Each sink records every request and answers like the provider does; tests script
failures by queueing `Reply` objects. Only ever listens on 127.0.0.1.
"""

from tests.sinks.base import Recorded, Reply, Sink

__all__ = ["Recorded", "Reply", "Sink"]
