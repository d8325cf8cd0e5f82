"""Who acted: the caller an API request was authenticated as, recorded in the audit log."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who did it: a token name (or `anonymous` without auth) and the role it used; for
    an action taken from a notification (a signed link, an SMS reply), the recipient,
    and in `channel` the channel that carried it (a Slack button, a link, an SMS)."""

    name: str
    role: str
    correlation_id: str = ""
    channel: str = ""
