"""Message colours by notification kind and incident severity."""

from __future__ import annotations

from receiver.model.notification import Notification

SEVERITY_COLOURS = {
    "critical": 0xD32F2F,
    "error": 0xE64A19,
    "warning": 0xF9A825,
    "info": 0x1976D2,
}
RESOLVED_COLOUR = 0x2E7D32
ACKED_COLOUR = 0x7B1FA2
TEST_COLOUR = 0x616161


def colour(notification: Notification) -> int:
    """A message colour (RGB) for the notification's kind and incident severity."""
    if notification.kind == "resolved":
        return RESOLVED_COLOUR
    if notification.kind == "test":
        return TEST_COLOUR
    if notification.kind == "acknowledged":
        return ACKED_COLOUR
    severity = str(notification.incident.get("severity") or "")
    return SEVERITY_COLOURS.get(severity, TEST_COLOUR)


def hex_colour(value: int) -> str:
    """`#rrggbb` for an RGB integer."""
    return f"#{value:06x}"
