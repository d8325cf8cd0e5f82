"""The Ack / Resolve buttons of a Slack bot message (a Block Kit `actions` block).

Each button's `value` is the incident id; the interactivity endpoint
(`receiver.api.slack_interactions`) maps `action_id` back to the action. Which buttons
show follows the incident's state when the message was rendered: a firing incident
offers both, an acknowledged one only Resolve, a resolved one none.
"""

from __future__ import annotations

from typing import Any

from receiver.model.notification import Notification

ACK_ACTION = "tocsin_ack"
RESOLVE_ACTION = "tocsin_resolve"
# The action each button's `action_id` stands for, in the words of the incidents API.
ACTIONS = {ACK_ACTION: "ack", RESOLVE_ACTION: "resolve"}
BLOCK_ID = "tocsin_actions"


def _button(action_id: str, label: str, incident_id: int, style: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": str(incident_id),
        "style": style,
    }


def action_block(notification: Notification) -> dict[str, Any] | None:
    """The buttons for this notification's incident, or None when nothing applies."""
    incident = notification.incident
    incident_id = incident.get("id")
    if notification.kind in ("test", "digest", "resolved") or not isinstance(incident_id, int):
        return None
    state = incident.get("state")
    elements = []
    if state == "firing":
        elements.append(_button(ACK_ACTION, "Acknowledge", incident_id, "primary"))
    if state in ("firing", "acknowledged"):
        elements.append(_button(RESOLVE_ACTION, "Resolve", incident_id, "danger"))
    if not elements:
        return None
    return {"type": "actions", "block_id": BLOCK_ID, "elements": elements}
