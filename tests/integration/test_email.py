"""Email through a real SMTP server (aiosmtpd) with STARTTLS or implicit TLS and AUTH."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from receiver.channels.email import EmailChannel, EmailConfig, thread_id
from receiver.templates import TemplateRenderer
from servicekit.values import Secret
from tests.procs import free_port
from tests.sinks.notifications import notification
from tests.sinks.tls import SelfSigned, make_self_signed

USER = "tocsin"
PASSWORD = "smtp-pa55word-secret"
RECIPIENTS = ["oncall@example.com", "Team Lead <lead@example.com>"]


@dataclass
class Handler:
    envelopes: list[Any] = field(default_factory=list)
    data_reply: str | None = None
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        self.envelopes.append(envelope)
        return "250 2.0.0 queued as 12345"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.content, policy=email.policy.default)  # type: ignore[misc]
            for e in self.envelopes
        ]


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls(tmp_path: Path) -> SelfSigned:
    return make_self_signed(tmp_path)


@pytest.fixture
def handler() -> Handler:
    return Handler()


def _controller(handler: Handler, tls: SelfSigned, implicit: bool) -> Controller:
    kwargs: dict[str, Any] = {
        "hostname": "127.0.0.1",
        "port": free_port(),
        "authenticator": authenticator,
        "auth_required": True,
    }
    if implicit:
        kwargs["ssl_context"] = tls.server_context()
        # aiosmtpd cannot tell an implicit-TLS socket is encrypted; it is.
        kwargs["auth_require_tls"] = False
    else:
        kwargs["tls_context"] = tls.server_context()
        kwargs["require_starttls"] = True
    return Controller(handler, **kwargs)


@pytest.fixture
async def starttls_server(handler: Handler, tls: SelfSigned) -> AsyncIterator[Controller]:
    controller = _controller(handler, tls, implicit=False)
    await asyncio.to_thread(controller.start)
    yield controller  # type: ignore[misc]
    await asyncio.to_thread(controller.stop)


def make_channel(controller: Controller, certs: SelfSigned, **overrides: Any) -> EmailChannel:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": controller.port,
        "sender": "tocsin <alerts@tocsin.example>",
        "to": RECIPIENTS,
        "username": USER,
        "password": Secret(PASSWORD),
        "ca_file": certs.cert_file,
        "tls": "starttls",
    }
    values.update(overrides)
    return EmailChannel("mail", EmailConfig(**values), TemplateRenderer())


async def test_starttls_auth_multipart_escaped_recipients(
    starttls_server: Controller, handler: Handler, tls: SelfSigned
) -> None:
    channel = make_channel(starttls_server, tls)
    result = await channel.send(notification("script_annotation.json"))
    assert result.ok, result
    [envelope] = handler.envelopes
    assert envelope.mail_from == "alerts@tocsin.example"
    assert envelope.rcpt_tos == ["oncall@example.com", "lead@example.com"]
    [msg] = handler.messages()
    assert msg["Subject"] == "[FIRING:1] AppErrors (warning): Errors <b>rising</b> & more"
    assert msg["To"] == "oncall@example.com, Team Lead <lead@example.com>"
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<script>alert('x')</script> error rate is 5%" in text
    assert msg["Auto-Submitted"] == "auto-generated"


async def test_threading_headers_per_incident(
    starttls_server: Controller, handler: Handler, tls: SelfSigned
) -> None:
    channel = make_channel(starttls_server, tls)
    firing = notification(kind="firing", notification_id=1)
    escalation = notification(kind="escalation", notification_id=2)
    resolved = notification(kind="resolved", notification_id=3)
    for n in (firing, escalation, resolved):
        assert (await channel.send(n)).ok
    messages = handler.messages()
    root = thread_id(firing.incident, "alerts@tocsin.example")
    assert root.startswith("<tocsin.incident.") and root.endswith("@tocsin.example>")
    assert {m["In-Reply-To"] for m in messages} == {root}
    assert {m["References"] for m in messages} == {root}
    ids = [m["Message-ID"] for m in messages]
    assert len(set(ids)) == 3 and root not in ids
    assert [m["X-Tocsin-Kind"] for m in messages] == ["firing", "escalation", "resolved"]
    # A retry of the same notification keeps its Message-ID, so clients de-duplicate it.
    assert (await channel.send(firing)).ok
    assert handler.messages()[-1]["Message-ID"] == ids[0]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_implicit_tls(handler: Handler, tls: SelfSigned) -> None:
    controller = _controller(handler, tls, implicit=True)
    await asyncio.to_thread(controller.start)
    try:
        channel = make_channel(controller, tls, tls="tls")
        result = await channel.send(notification())
    finally:
        await asyncio.to_thread(controller.stop)
    assert result.ok, result
    assert len(handler.envelopes) == 1


async def test_wrong_password_is_permanent_and_secret_free(
    starttls_server: Controller, tls: SelfSigned
) -> None:
    channel = make_channel(starttls_server, tls, password=Secret("not-the-password-77"))
    result = await channel.send(notification())
    assert not result.ok and not result.retry
    assert "authentication failed" in (result.error or "")
    assert "not-the-password-77" not in (result.error or "")


async def test_untrusted_certificate_is_not_accepted(
    starttls_server: Controller, tls: SelfSigned
) -> None:
    channel = make_channel(starttls_server, tls, ca_file=None)
    result = await channel.send(notification())
    assert not result.ok and result.retry
    assert PASSWORD not in (result.error or "")


async def test_temporary_and_permanent_smtp_replies(
    starttls_server: Controller, handler: Handler, tls: SelfSigned
) -> None:
    channel = make_channel(starttls_server, tls)
    handler.data_reply = "451 4.3.0 try again later"
    result = await channel.send(notification())
    assert not result.ok and result.retry and result.status == "451"
    handler.data_reply = "554 5.7.1 rejected"
    result = await channel.send(notification())
    assert not result.ok and not result.retry and result.status == "554"
    handler.data_reply = None
    handler.refuse = {"oncall@example.com", "lead@example.com"}
    result = await channel.send(notification())
    assert not result.ok and not result.retry


async def test_server_without_auth_is_a_permanent_config_error(
    handler: Handler, tls: SelfSigned
) -> None:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    await asyncio.to_thread(controller.start)
    try:
        channel = make_channel(controller, tls, tls="none")
        result = await channel.send(notification())
    finally:
        await asyncio.to_thread(controller.stop)
    assert not result.ok and not result.retry
    assert "not supported" in (result.error or "")
    assert PASSWORD not in (result.error or "")
    assert handler.messages() == []


async def test_unreachable_server_is_retryable(tls: SelfSigned) -> None:
    config = EmailConfig(
        host="127.0.0.1", port=free_port(), sender="a@example.com", to=["b@example.com"], timeout=5
    )  # type: ignore[arg-type]
    result = await EmailChannel("mail", config, TemplateRenderer()).send(notification())
    assert not result.ok and result.retry


def test_config_validation() -> None:
    config = EmailConfig(
        host="h", sender="nobody", to=[], username="u", tls="none", password=Secret("p")
    )
    keys = [k for k, _ in config.validate()]
    assert keys == ["sender", "to", "tls"]
