"""Shorten text at word boundaries, never inside a word unless it alone is too long.

Used by the `clip` template filter and by the channels' message budgets.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def clip(text: str, limit: int, marker: str = ELLIPSIS) -> str:
    """Shorten `text` to at most `limit` characters, ending at a word boundary plus `marker`.

    Only a single word longer than the whole limit (a URL, a hash) is cut inside itself.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if len(marker) >= limit:
        return marker[:limit]
    room = limit - len(marker)
    head = text[: room + 1]
    cut = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    kept = head[:cut].rstrip() if cut > 0 else text[:room]
    return kept + marker


def split_paragraphs(text: str, limit: int) -> list[str]:
    """Pack blank-line-separated paragraphs into chunks of at most `limit` characters.

    Paragraphs are never split; one longer than `limit` on its own is clipped.
    """
    chunks: list[str] = []
    current = ""
    for raw in _PARAGRAPH_BREAK.split(text):
        paragraph = clip(raw.strip("\n"), limit)
        if not paragraph.strip():
            continue
        if current and len(current) + 2 + len(paragraph) <= limit:
            current = f"{current}\n\n{paragraph}"
        else:
            if current:
                chunks.append(current)
            current = paragraph
    if current:
        chunks.append(current)
    return chunks
