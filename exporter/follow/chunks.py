"""What one read of a followed file hands on: its complete lines, each cut to a cap.

A line longer than the cap is garbage or an attack: holding it whole would let one
writer fill memory, and parsing it whole costs time for nothing. Its first `cap` bytes go
on as a line; the rest is skipped up to its newline, even across many reads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Taken:
    """The part of a read that is consumed."""

    end: int  # bytes of the read consumed (a partial last line is left for later)
    text: str  # complete lines for the sink, "" for none
    skipping: bool  # the read ended inside an over-long line whose rest is to be skipped
    cut: int  # over-long lines cut short in this read


def take_lines(data: bytes, skipping: bool, cap: int) -> Taken | None:
    """The complete lines of `data`, a read that starts inside a skipped line when
    `skipping`; None when `data` is only the start of a line short enough to wait for."""
    if skipping:
        end = data.find(b"\n") + 1
        return Taken(end or len(data), "", not end, 0)
    end = data.rfind(b"\n") + 1
    if end:
        text, cut = _cut(data[:end], cap)
        return Taken(end, text, False, cut)
    if len(data) >= cap:
        return Taken(len(data), data[:cap].decode("utf-8", "replace") + "\n", True, 1)
    return None


def _cut(data: bytes, cap: int) -> tuple[str, int]:
    """Complete lines as text, each cut to `cap` bytes, and how many were cut."""
    if len(data) <= cap or not _may_hold_long_line(data, cap):
        return data.decode("utf-8", "replace"), 0
    lines = data.split(b"\n")
    cut = sum(1 for line in lines if len(line) > cap)
    return b"\n".join(line[:cap] for line in lines).decode("utf-8", "replace"), cut


def _may_hold_long_line(data: bytes, cap: int) -> bool:
    """False when no line of `data` can be longer than `cap`, found with a few `find`s.

    A line longer than `cap` covers a whole aligned window of `cap // 2` bytes, so when
    every such window holds a newline no line is that long; a window without one only
    means a line may be (the exact check then splits). This keeps the common case at
    about a hundred short scans per MiB instead of splitting every chunk into lines.
    """
    half = max(1, cap // 2)
    return any(data.find(b"\n", i, i + half) < 0 for i in range(0, len(data) - half + 1, half))
