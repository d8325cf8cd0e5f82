"""Make and check action links: `{base_url}/act/{incident}?t={token}`.

The token is `base64url(claims JSON) "." base64url(HMAC-SHA256(key, domain + claims))`.
The claims name the incident, the action (`ack` or `resolve`), the expiry (unix
seconds), a random nonce (so each link can be used once), the channel that carried it
and its recipient (the audit actor). The incident is also in the path, so a link for
one incident pasted onto another's page is refused by name, not just as "altered".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

ACTIONS = ("ack", "resolve")
# The links each kind of message about one open incident offers; a resolved one, a
# digest or a test gets none, and an acknowledgement has nothing left to acknowledge.
LINKED_KINDS = {
    "firing": ACTIONS,
    "escalation": ACTIONS,
    "repeat": ACTIONS,
    "acknowledged": ("resolve",),
}
# Separates these MACs from any other use of the same key.
_DOMAIN = b"tocsin-action-link-v1\n"
# Bounds what is decoded from a URL before its signature is checked.
MAX_TOKEN_CHARS = 2048


class LinkRefused(Exception):
    """A link that does not act: `status` is the HTTP answer, `field` what was wrong."""

    def __init__(self, status: int, message: str, field: str = "t") -> None:
        self.status = status
        self.message = message
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Claims:
    """What a valid link says: who may do what to which incident, until when."""

    incident: int
    action: str
    expires: int
    nonce: str
    channel: str
    recipient: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    """Signs and verifies links with one key; `recipients` names each channel's recipient
    (the channel name where a channel has none of its own)."""

    def __init__(
        self, key: bytes, ttl: float, base_url: str, recipients: Mapping[str, str]
    ) -> None:
        self._key = key
        self.ttl = ttl
        self.base_url = base_url.rstrip("/")
        self._recipients = dict(recipients)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, _DOMAIN + payload, hashlib.sha256).digest()

    def sign(self, incident: int, action: str, channel: str, now: float) -> str:
        """A fresh token for `action` on `incident`, carried by `channel`."""
        claims = {
            "i": incident,
            "a": action,
            "e": int(now + self.ttl),
            "n": secrets.token_urlsafe(12),
            "c": channel,
            "r": self._recipients.get(channel, channel),
        }
        payload = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def url(self, incident: int, token: str) -> str:
        """The confirmation page's URL for a token."""
        return f"{self.base_url}/act/{incident}?t={quote(token, safe='')}"

    def links(self, context: Mapping[str, Any], now: float) -> dict[str, str]:
        """`ack`, `resolve` and `open` URLs for a message about one open incident; none
        for other messages (resolved, digest, test) or without an incident id."""
        incident = context.get("id")
        offered = LINKED_KINDS.get(str(context.get("kind")), ())
        if not offered or not isinstance(incident, int) or isinstance(incident, bool):
            return {}
        channel = str(context.get("channel") or "")
        found = {a: self.url(incident, self.sign(incident, a, channel, now)) for a in offered}
        found["open"] = f"{self.base_url}/incidents/{incident}"
        return found

    def verify(self, token: str, incident: int, now: float) -> Claims:
        """The claims of a genuine, unexpired link for `incident`; LinkRefused otherwise
        (403 altered or for another incident, 410 expired). The MAC is compared in
        constant time before anything in the token is believed."""
        if not token:
            raise LinkRefused(400, "the link has no token", "t")
        if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            raise LinkRefused(403, "the link is not one tocsin signed (altered?)")
        head, tail = token.split(".")
        try:
            payload, given = _unb64(head), _unb64(tail)
        except (binascii.Error, ValueError):
            raise LinkRefused(403, "the link is not one tocsin signed (altered?)") from None
        if not hmac.compare_digest(self._mac(payload), given):
            raise LinkRefused(403, "the link's signature does not match (altered, or another key)")
        claims = _claims(payload)
        if claims.incident != incident:
            raise LinkRefused(
                403, f"the link is for incident {claims.incident}, not {incident}", "id"
            )
        if claims.expires <= now:
            raise LinkRefused(410, "the link has expired; act from the incidents page instead")
        return claims


def _claims(payload: bytes) -> Claims:
    # Only a payload we signed gets here, so a shape problem means a key reused by
    # something else: refuse it the same way.
    try:
        doc = json.loads(payload)
        claims = Claims(
            incident=int(doc["i"]),
            action=str(doc["a"]),
            expires=int(doc["e"]),
            nonce=str(doc["n"]),
            channel=str(doc["c"]),
            recipient=str(doc["r"]),
        )
    except (ValueError, KeyError, TypeError):
        raise LinkRefused(403, "the link's contents are not a tocsin link") from None
    if claims.action not in ACTIONS:
        raise LinkRefused(403, f"the link's action {claims.action!r} is not ack or resolve")
    return claims
