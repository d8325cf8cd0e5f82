"""Email over SMTP with aiosmtplib: STARTTLS or implicit TLS, auth, text + HTML parts.

Every message about one incident carries `In-Reply-To` and `References` pointing at a
per-incident thread id, and its own unique `Message-ID`, so mail clients show an
incident's firing, escalation and resolved messages as one conversation.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
from contextlib import suppress
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Any, Literal

import aiosmtplib

from receiver.channels.base import Channel, SendResult, register
from receiver.channels.budget import LIMITS
from receiver.channels.redact import describe_exception
from receiver.model.notification import Notification
from receiver.templates.clip import clip
from receiver.templates.context import build_context
from servicekit.sections import Unavailable
from servicekit.values import Duration, Secret


@dataclass
class EmailConfig:
    """SMTP server, credentials, sender and recipients."""

    host: str
    sender: str
    to: list[str]
    port: int | None = None
    tls: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: Secret | None = None
    ca_file: Path | None = None
    hello: str | None = None
    max_alerts: int = 50
    timeout: Duration = Duration(30)

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        # Each check on its own: one reading a key that failed to parse is skipped (that
        # key's problem is reported already) and the others still run.
        with suppress(Unavailable):
            if "@" not in parseaddr(self.sender)[1]:
                problems.append(("sender", "expected an email address"))
        with suppress(Unavailable):
            if not self.to:
                problems.append(("to", "expected at least one address"))
            for i, address in enumerate(self.to):
                if "@" not in parseaddr(address)[1]:
                    problems.append((f"to[{i}]", f"expected an email address, got {address!r}"))
        with suppress(Unavailable):
            if (self.username is None) != (self.password is None):
                problems.append(
                    ("", "set both username and password (or password_file), or neither")
                )
        with suppress(Unavailable):
            if self.password is not None and self.tls == "none":
                problems.append(("tls", "refusing to send a password without TLS"))
        with suppress(Unavailable):
            if self.port is not None and not 0 < self.port < 65536:
                problems.append(("port", "expected a port number"))
        with suppress(Unavailable):
            if self.max_alerts < 1:
                problems.append(("max_alerts", "expected at least 1"))
        with suppress(Unavailable):
            if self.ca_file is not None and not self.ca_file.is_file():
                problems.append(("ca_file", f"no such file: {self.ca_file}"))
        return problems

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return {"starttls": 587, "tls": 465, "none": 25}[self.tls]


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rsplit("@", 1)[-1] if "@" in address else "tocsin.invalid"


def thread_id(incident: dict[str, Any], sender: str) -> str:
    """The Message-ID all of an incident's messages refer to (stable across restarts)."""
    key = str(incident.get("key") or incident.get("id") or "")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<tocsin.incident.{digest}@{_domain(sender)}>"


def message_id(notification: Notification, sender: str) -> str:
    """A unique Message-ID per notification (the same on every retry of it)."""
    digest = hashlib.sha256(notification.idempotency_key.encode("utf-8")).hexdigest()[:24]
    return f"<tocsin.{notification.id}.{digest}@{_domain(sender)}>"


def build_message(
    channel: Channel, notification: Notification, config: EmailConfig
) -> EmailMessage:
    """The multipart/alternative message (text and HTML) for a notification."""
    ctx = build_context(
        notification, channel.name, config.max_alerts, channel.templates.grafana_url
    )
    kind = notification.kind
    render = channel.templates.render
    subject = render("email", kind, "subject.txt", ctx, channel=channel.name)
    text = render("email", kind, "body.txt", ctx, channel=channel.name)
    html = render("email", kind, "body.html", ctx, channel=channel.name)
    msg = EmailMessage()
    # Header values must be one line; templates may produce several.
    msg["Subject"] = clip(" ".join(str(subject).split()), LIMITS.email_subject)
    msg["From"] = config.sender
    msg["To"] = ", ".join(config.to)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id(notification, config.sender)
    root = thread_id(notification.incident, config.sender)
    msg["In-Reply-To"] = root
    msg["References"] = root
    msg["X-Tocsin-Incident"] = str(notification.incident.get("id", ""))
    msg["X-Tocsin-Kind"] = kind
    msg["X-Tocsin-Correlation-Id"] = notification.correlation_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(str(text) + "\n")
    msg.add_alternative(str(html) + "\n", subtype="html")
    return msg


@register
class EmailChannel(Channel):
    """Sends through an SMTP server with aiosmtplib."""

    type = "email"
    Config = EmailConfig
    config: EmailConfig

    def secrets(self) -> list[str]:
        """The password, and the AUTH PLAIN and LOGIN lines it is sent in: a server's
        error reply may quote the line it refused."""
        found = super().secrets()
        if self.config.password is not None and self.config.username is not None:
            user, password = self.config.username, self.config.password.reveal()
            found += [
                base64.b64encode(f"\0{user}\0{password}".encode()).decode(),
                base64.b64encode(password.encode()).decode(),
            ]
        return found

    def _tls_context(self) -> ssl.SSLContext:
        if self.config.ca_file is not None:
            return ssl.create_default_context(cafile=str(self.config.ca_file))
        return ssl.create_default_context()

    def preview(self, notification: Notification) -> str:
        """The message `send` would submit (headers, then each part decoded), for `render`."""
        msg = build_message(self, notification, self.config)
        lines = [f"{key}: {value}" for key, value in msg.items() if key != "Content-Type"]
        for part in msg.iter_parts():
            lines += ["", f"--- {part.get_content_type()} ---", str(part.get_content()).rstrip()]
        return "\n".join(lines)

    async def deliver(self, notification: Notification) -> SendResult:
        config = self.config
        message = build_message(self, notification, config)
        try:
            refused, response = await aiosmtplib.send(
                message,
                hostname=config.host,
                port=config.effective_port,
                username=config.username,
                password=config.password.reveal() if config.password is not None else None,
                use_tls=config.tls == "tls",
                start_tls=config.tls == "starttls",
                tls_context=self._tls_context() if config.tls != "none" else None,
                local_hostname=config.hello,
                timeout=float(config.timeout),
                sender=parseaddr(config.sender)[1],
                recipients=[parseaddr(a)[1] for a in config.to],
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return SendResult.permanent(f"email: every recipient was refused: {exc}")
        except aiosmtplib.SMTPAuthenticationError as exc:
            return SendResult.permanent(f"email: authentication failed ({exc.code})", str(exc.code))
        except aiosmtplib.SMTPResponseException as exc:
            text = self._describe(exc)
            if 400 <= exc.code < 500:
                return SendResult.retryable(text, status=str(exc.code))
            return SendResult.permanent(text, status=str(exc.code))
        except (TimeoutError, OSError, ssl.SSLError) as exc:
            # Connect, timeout and disconnect errors (aiosmtplib's subclass OSError).
            return SendResult.retryable(self._describe(exc))
        except aiosmtplib.SMTPException as exc:
            # Raised without a reply code when the server lacks a capability the config
            # asks for (AUTH, STARTTLS, SMTPUTF8): retrying cannot fix that.
            return SendResult.permanent(self._describe(exc))
        detail = f"{response} (Message-ID {message['Message-ID']})"
        if refused:
            detail += "; refused: " + ", ".join(sorted(refused))
        return SendResult.delivered(status="250", response=detail)

    def _describe(self, exc: BaseException) -> str:
        return "email: " + describe_exception(exc, self.secrets())
