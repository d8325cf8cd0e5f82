"""Form posts of the incidents page: small, url-encoded, a bounded number of fields."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDict

from receiver.http import forms

# A comment of 2,000 characters percent-encoded at worst, a token, the CSRF field, and
# the ids of a page of 1,000 incidents for a bulk action.
MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 16


async def read_form(request: web.Request, max_fields: int = MAX_FIELDS) -> MultiDict[str]:
    """The posted fields (a name may repeat) within the page's limits; 413/415/400 JSON errors."""
    return await forms.read_form(request, MAX_FORM_BYTES, max_fields)
