"""Form posts of the incidents page: small, url-encoded, a bounded number of fields."""

from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web
from multidict import MultiDict

from receiver.http.body import read_capped
from receiver.http.errors import JSONHTTPError

# A comment of 2,000 characters percent-encoded at worst, a token, the CSRF field, and
# the ids of a page of 1,000 incidents for a bulk action.
MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 16


async def read_form(request: web.Request, max_fields: int = MAX_FIELDS) -> MultiDict[str]:
    """The posted fields (a name may repeat); 413/415/400 JSON errors."""
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
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=max_fields)
    except UnicodeDecodeError:
        raise JSONHTTPError(400, "expected a percent-encoded form", field="body") from None
    except ValueError:
        raise JSONHTTPError(400, f"expected at most {max_fields} fields", field="body") from None
    return MultiDict(pairs)
