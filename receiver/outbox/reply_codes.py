"""Short reply codes for SMS: `ACK KTP` instead of `ACK 1234567`.

Each incident gets one code per SMS channel, before its first message on that channel is
sent (the code is in the text), kept in the channel's stored `message_ref` with the
numbers it reached. A code is unique among the channel's open incidents, so among those
of every recipient; once its incident is resolved the code may be given out again.
Codes are letters only, so a code can never be mistaken for an incident id, and leave
out the letters read as digits or as each other (B G I L O Q S Z).
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import replace

from receiver.channels.sms_recipients import parse_recipients
from receiver.outbox.messages import keep_message_ref, message_ref
from receiver.store.base import Tx

ALPHABET = "ACDEFHJKMNPRTUVWXY"
LENGTH = 3
# Random picks before listing the free codes; with few codes taken the first one is free.
_TRIES = 32


def free_code(taken: set[str], length: int = LENGTH) -> str:
    """A random code not in `taken`: `length` letters while one is free, else longer."""
    while True:
        for _ in range(_TRIES):
            code = "".join(secrets.choice(ALPHABET) for _ in range(length))
            if code not in taken:
                return code
        free = [
            code
            for code in map("".join, itertools.product(ALPHABET, repeat=length))
            if code not in taken
        ]
        if free:
            return secrets.choice(free)
        length += 1


def open_codes(tx: Tx, channel: str) -> dict[str, int]:
    """The codes of `channel`'s open incidents, each with its incident id."""
    rows = tx.all(
        "SELECT m.incident_id, m.ref FROM channel_messages m"
        " JOIN incidents i ON i.id = m.incident_id"
        " WHERE m.channel = ? AND i.state <> 'resolved'",
        (channel,),
    )
    codes: dict[str, int] = {}
    for row in rows:
        code = parse_recipients(row["ref"]).code
        if code is not None:
            codes[code] = int(row["incident_id"])
    return codes


def ref_with_code(tx: Tx, incident_id: int, channel: str, now: float) -> str:
    """The incident's stored reference on `channel`, given a reply code first if it has
    none (stored at once, so every later message about the incident shows the same)."""
    ref = message_ref(tx, incident_id, channel)
    record = parse_recipients(ref)
    if ref is not None and record.code is not None:
        return ref
    taken = {code for code, owner in open_codes(tx, channel).items() if owner != incident_id}
    coded = replace(record, code=free_code(taken)).dumps()
    keep_message_ref(tx, incident_id, channel, coded, now)
    return coded
