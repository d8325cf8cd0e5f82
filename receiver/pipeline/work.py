"""What the stages pass along: one stored webhook being applied, and what it changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from receiver.model.payload import Alert, Payload
from receiver.model.snapshot import severity_of
from receiver.pipeline.router import Target
from receiver.store.base import Row


@dataclass
class Outcome:
    """What a webhook changed."""

    incident_id: int | None = None
    created: bool = False
    new_events: int = 0
    duplicates: int = 0
    notifications: list[int] = field(default_factory=list)


@dataclass
class Webhook:
    """One webhook on its way through the stages; each stage fills in what it decides."""

    payload: Payload
    correlation_id: str
    now: float
    outcome: Outcome = field(default_factory=Outcome)
    # ingest: the group's incident key and latest incident (id, state), if any.
    key: str = ""
    incident: Row | None = None
    # dedup: the copies that change an alert's episode, and whether a new incident opens.
    applied: list[Alert] = field(default_factory=list)
    opens: bool = False
    # route: where a new incident goes.
    target: Target = field(default_factory=Target)
    # storm: whether a new incident's notifications fold into digests.
    in_storm: bool = False

    @cached_property
    def severity(self) -> str:
        """The incident's severity: the common label, else the most severe alert's."""
        p = self.payload
        return severity_of(p.common_labels, [a.labels for a in p.alerts])

    @property
    def incident_id(self) -> int:
        assert self.incident is not None
        return int(self.incident["id"])
