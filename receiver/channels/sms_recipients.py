"""What the twilio channel keeps per incident as its `message_ref`: the numbers it has
delivered a message about the incident to, and the incident's short reply code.

An SMS cannot be edited, so the "message" an SMS channel keeps is this record. It is what
an inbound reply is checked against: a number may act on an incident only if it was sent
a message about it, whatever the channel's `to` list says now.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class SmsRecipients:
    """The numbers reached about one incident on one channel, and its reply code."""

    numbers: frozenset[str] = field(default_factory=frozenset)
    code: str | None = None

    def reached(self, numbers: Iterable[str]) -> SmsRecipients:
        """This record with `numbers` added."""
        return replace(self, numbers=self.numbers | frozenset(numbers))

    def dumps(self) -> str:
        """The stored form (JSON, numbers sorted so equal records store equal text)."""
        return json.dumps({"to": sorted(self.numbers), "code": self.code})


def parse_recipients(ref: str | None) -> SmsRecipients:
    """The record stored as `ref`; an absent or unreadable one has no numbers and no code
    (a reference from before recipients were recorded, or another channel type's)."""
    if not ref:
        return SmsRecipients()
    try:
        doc = json.loads(ref)
    except ValueError:
        return SmsRecipients()
    if not isinstance(doc, dict):
        return SmsRecipients()
    numbers = doc.get("to")
    code = doc.get("code")
    return SmsRecipients(
        frozenset(n for n in numbers if isinstance(n, str))
        if isinstance(numbers, list)
        else frozenset(),
        code if isinstance(code, str) else None,
    )
