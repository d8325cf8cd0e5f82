"""What one probe run found out."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


class ProbeFailed(Exception):
    """The target answered, but not as expected."""


@dataclass
class ProbeResult:
    """Outcome and phase timings of one probe run; phases that did not complete are absent."""

    success: bool = False
    phases: dict[str, float] = field(default_factory=dict)
    status_code: int | None = None
    cert_not_after: float | None = None
    error: str = ""


class PhaseTimer:
    """Times consecutive phases into a result."""

    def __init__(self, result: ProbeResult) -> None:
        self.result = result
        self._start = time.perf_counter()

    def mark(self, phase: str) -> None:
        """End the current phase (started at the previous mark) under this name."""
        now = time.perf_counter()
        self.result.phases[phase] = self.result.phases.get(phase, 0.0) + now - self._start
        self._start = now
