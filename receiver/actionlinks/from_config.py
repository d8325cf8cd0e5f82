"""The link signer and the SMS-reply channels a configuration asks for."""

from __future__ import annotations

from urllib.parse import urlsplit

from receiver.actionlinks.signing import LinkSigner
from receiver.config import Config

# An email to a long list would otherwise put every address into each link.
_MAX_RECIPIENT_CHARS = 200


def page_url(cfg: Config) -> str:
    """Where the incidents page is reached: `action_links.base_url`, else
    `web.external_url` (its origin plus `web.route_prefix` when that is set)."""
    if cfg.action_links.base_url:
        return cfg.action_links.base_url.rstrip("/")
    external = cfg.web.external_url.rstrip("/")
    if cfg.web.route_prefix and external:
        parts = urlsplit(external)
        return f"{parts.scheme}://{parts.netloc}/{cfg.web.route_prefix.strip('/')}".rstrip("/")
    return external


def recipient_of(name: str, options: object) -> str:
    """Who a channel's messages reach, as the audit log names them: its `to` addresses
    or numbers where it has them, else the channel's name."""
    to = getattr(options, "to", None)
    if isinstance(to, list) and to and all(isinstance(t, str) for t in to):
        text = ", ".join(to)
    elif isinstance(to, str) and to:
        text = to
    else:
        return name
    return text if len(text) <= _MAX_RECIPIENT_CHARS else text[: _MAX_RECIPIENT_CHARS - 1] + "…"


def link_signer(cfg: Config) -> LinkSigner | None:
    """The signer for `action_links`, or None when no key is configured (no links)."""
    key = cfg.action_links.key
    if key is None or not page_url(cfg):
        return None
    recipients = {name: recipient_of(name, cc.options) for name, cc in cfg.channels.items()}
    return LinkSigner(key.reveal().encode(), float(cfg.action_links.ttl), page_url(cfg), recipients)


def reply_channels(cfg: Config) -> frozenset[str]:
    """The twilio channels whose recipients may answer by SMS (`twilio_inbound`)."""
    inbound = cfg.twilio_inbound
    return frozenset([inbound.channel]) if inbound is not None else frozenset()
