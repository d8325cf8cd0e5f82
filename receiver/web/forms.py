"""Form posts of the incidents page: small, url-encoded, a bounded number of fields."""

from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web

from receiver.http.body import read_capped
from receiver.http.errors import JSONHTTPError

# A comment of 2,000 characters, percent-encoded at worst, plus a token and the CSRF field.
MAX_FORM_BYTES = 32 * 1024
_MAX_FIELDS = 16


async def read_form(request: web.Request) -> dict[str, str]:
    """The posted fields (the last of a repeated name wins); 413/415/400 JSON errors."""
    raw = await read_capped(request, MAX_FORM_BYTES)
    if raw and request.content_type != "application/x-www-form-urlencoded":
        raise JSONHTTPError(
            415,
            "expected Content-Type application/x-www-form-urlencoded,"
            f" got {request.content_type!r}",
            field="Content-Type",
        )
    try:
        text = raw.decode("ascii")
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=_MAX_FIELDS)
    except UnicodeDecodeError:
        raise JSONHTTPError(400, "expected a percent-encoded form", field="body") from None
    except ValueError:
        raise JSONHTTPError(400, f"expected at most {_MAX_FIELDS} fields", field="body") from None
    return dict(pairs)
