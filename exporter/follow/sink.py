"""What a follower hands its lines to."""

from __future__ import annotations

from collections.abc import Callable

LineSink = Callable[[str], None]
"""Receives a chunk of complete lines: text that ends with a newline."""
