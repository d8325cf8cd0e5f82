"""Form posts (`application/x-www-form-urlencoded`) read with a byte cap and a field cap,
for the incidents page's forms and for providers that post forms (Twilio's SMS webhook)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web
from multidict import MultiDict

from receiver.http.body import read_capped
from receiver.http.errors import JSONHTTPError


async def read_form(request: web.Request, max_bytes: int, max_fields: int) -> MultiDict[str]:
    """The posted fields (a name may repeat). A body over `max_bytes` is 413, another
    content type 415, more than `max_fields` fields or bytes that are not a percent-encoded
    form 400, each a JSON error naming the field. An empty body is an empty form."""
    raw = await read_capped(request, max_bytes)
    if raw and request.content_type != "application/x-www-form-urlencoded":
        raise JSONHTTPError(
            415,
            "expected Content-Type application/x-www-form-urlencoded,"
            f" got {request.content_type!r}",
            field="Content-Type",
        )
    try:
        # A urlencoded form is ASCII: anything else is percent-encoded, and decoded as
        # UTF-8 (strictly) by parse_qsl.
        text = raw.decode("ascii")
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=max_fields)
    except UnicodeDecodeError:
        raise JSONHTTPError(400, "expected a percent-encoded form", field="body") from None
    except ValueError:
        raise JSONHTTPError(400, f"expected at most {max_fields} fields", field="body") from None
    return MultiDict(pairs)
