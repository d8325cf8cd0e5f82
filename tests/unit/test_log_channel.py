"""The log channel's level for each kind of notification: digests and fixed levels."""

from __future__ import annotations

from receiver.channels.log import LogChannelConfig, notification_level
from receiver.model.digest import digest_entry, digest_summary
from receiver.model.notification import Notification


def _digest(*severities: str) -> Notification:
    entries = [
        digest_entry(i, "firing", {"id": i, "severity": sev}, "storm")
        for i, sev in enumerate(severities, 1)
    ]
    return Notification(
        id=9,
        channel="log",
        kind="digest",
        idempotency_key="k",
        correlation_id="c",
        incident=digest_summary(entries),
        digest=entries,
    )


def test_a_digest_is_logged_at_its_most_severe_incident() -> None:
    config = LogChannelConfig()
    assert notification_level(config, _digest("info", "critical", "warning")) == "error"
    assert notification_level(config, _digest("info", "none")) == "info"
    assert notification_level(config, _digest("info", "odd")) == "warning"  # default_level


def test_fixed_level_and_mapping_overrides() -> None:
    fixed = LogChannelConfig(level="debug")
    assert notification_level(fixed, _digest("critical")) == "debug"
    mapped = LogChannelConfig(severity_levels={"critical": "warning"}, default_level="info")
    assert notification_level(mapped, _digest("critical")) == "warning"
    assert notification_level(mapped, _digest("odd")) == "info"
