"""Errors and provider answers with a channel's secrets taken out, for logs and stored
attempts: a provider, or a proxy in front of it, may echo the request in an error page."""

from __future__ import annotations

import base64
from collections.abc import Iterable

from servicekit.redaction import replace_secrets
from servicekit.values import Secret


def describe_exception(exc: BaseException, secrets: Iterable[str | Secret | None]) -> str:
    """`Type: message` for an exception, with secrets removed."""
    message = str(exc) or repr(exc)
    return replace_secrets(f"{type(exc).__name__}: {message}", secrets)


def basic_auth(user: str, password: str) -> str:
    """The credentials of an `Authorization: Basic` header, as an echo would show them."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()
