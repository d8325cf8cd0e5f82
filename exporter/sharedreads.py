"""Files read once per collection and shared by every collector that reports on them.

`cpu` and `stat` both report on /proc/stat, one of the costlier procfs files (the kernel
sums every CPU's counters and every interrupt line to print it). Each collector stays in
its own module and asks `ctx.reads` for the file; inside a collection the first asker
reads it and the others get the same text. Outside one (a collector called by hand, a
test) every call reads afresh, so nothing is ever served from an earlier collection.
"""

from __future__ import annotations

from collections.abc import Callable


class SharedReads:
    """The texts read during the current collection, by path."""

    def __init__(self) -> None:
        self._texts: dict[str, str] | None = None

    def begin(self) -> None:
        """A collection starts: reads are shared from now until `end`."""
        self._texts = {}

    def end(self) -> None:
        """The collection ended: drop its texts, read afresh until the next `begin`."""
        self._texts = None

    def read(self, path: str, reader: Callable[[str], str]) -> str:
        """`reader(path)`, or its text from earlier in this collection.

        A reader that raises is not remembered. Collectors of one collection run one after
        another, so no lock: at worst a collector moved off a stuck worker reads once more.
        """
        texts = self._texts
        if texts is None:
            return reader(path)
        text = texts.get(path)
        if text is None:
            text = texts[path] = reader(path)
        return text
