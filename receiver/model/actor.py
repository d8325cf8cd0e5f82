"""Who acted: the caller an API request was authenticated as, recorded in the audit log."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who did it: a token name (or `anonymous` without auth) and the role it used;
    `channel` names the notification channel acted from (a Slack button), if any."""

    name: str
    role: str
    correlation_id: str = ""
    channel: str = ""
