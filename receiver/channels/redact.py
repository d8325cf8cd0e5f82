"""Errors and URLs with their secrets taken out, for logs and stored attempts."""

from __future__ import annotations

from collections.abc import Iterable

from servicekit.redaction import replace_secrets
from servicekit.values import Secret


def describe_exception(exc: BaseException, secrets: Iterable[str | Secret | None]) -> str:
    """`Type: message` for an exception, with secrets removed."""
    message = str(exc) or repr(exc)
    return replace_secrets(f"{type(exc).__name__}: {message}", secrets)


def secret_url_parts(url: str) -> list[str]:
    """The parts of a webhook URL that carry its secret: the whole URL and its path+query."""
    parts = [url]
    scheme_end = url.find("://")
    if scheme_end >= 0:
        path_start = url.find("/", scheme_end + 3)
        if path_start >= 0 and len(url) - path_start > 1:
            parts.append(url[path_start:])
    return parts
