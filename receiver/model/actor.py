"""Who acted: the caller an API request was authenticated as, recorded in the audit log."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who did it: a token name (or `anonymous` without auth) and the role it used; for
    an action taken from a notification (a signed link, an SMS reply, a Slack button),
    the recipient or user, and in `channel` the channel that carried it."""

    name: str
    role: str
    correlation_id: str = ""
    channel: str = ""
