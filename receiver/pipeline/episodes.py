"""Alert identity: (group, fingerprint) plus its firing episode.

Two Alertmanagers rarely agree on an alert's `startsAt` (alerts posted without one get
each Alertmanager's own receipt time; Prometheus replicas with the replica label dropped
evaluate at different moments), so an identity that includes `startsAt` calls one alert
two. Instead `alert_episodes` keeps, per (group, fingerprint), the state of its latest
episode: firing since `starts_ts`, or resolved at `ends_ts`. An incoming copy is then
judged against that episode (`is_new`), never against an exact timestamp.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from receiver.model.payload import Alert
from receiver.store.base import Tx


@dataclass(frozen=True, slots=True)
class Episode:
    """The latest episode of one alert of a group: firing, or resolved at `ends_ts`."""

    status: str
    starts_ts: float
    ends_ts: float | None


def resolution_ts(a: Alert, now: float) -> float:
    """When a resolved copy says the alert stopped: its endsAt, else when we heard of it."""
    return a.ends_ts if a.ends_ts is not None else now


def is_new(episode: Episode | None, a: Alert, now: float) -> bool:
    """Whether copy `a` changes the alert's episode (and so may notify).

    firing, episode firing     → no: the same episode, whatever its startsAt
    firing, episode resolved   → only if it starts after the stored resolution (a re-fire);
                                 one that started before it is a lagging copy (stale)
    resolved, episode firing   → only if it ends no earlier than the episode started (a
                                 resolution of an older episode, arriving late, is stale)
    resolved, episode resolved → no: already resolved
    no episode yet             → yes
    """
    if episode is None:
        return True
    if a.status == "firing":
        if episode.status == "firing":
            return False
        return episode.ends_ts is None or a.starts_ts > episode.ends_ts
    if episode.status == "resolved":
        return False
    return resolution_ts(a, now) >= episode.starts_ts


def load(tx: Tx, key: str) -> dict[str, Episode]:
    """The latest episode of every alert the group has had, by fingerprint."""
    rows = tx.all(
        "SELECT fingerprint, status, starts_ts, ends_ts FROM alert_episodes WHERE incident_key = ?",
        (key,),
    )
    return {r["fingerprint"]: Episode(r["status"], r["starts_ts"], r["ends_ts"]) for r in rows}


def record(tx: Tx, key: str, incident_id: int, applied: Iterable[Alert], now: float) -> None:
    """Store the episode each applied copy starts or ends."""
    tx.executemany(
        "INSERT INTO alert_episodes (incident_key, fingerprint, status, starts_ts, ends_ts,"
        " incident_id) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (incident_key, fingerprint) DO UPDATE SET status = excluded.status,"
        " starts_ts = excluded.starts_ts, ends_ts = excluded.ends_ts,"
        " incident_id = excluded.incident_id",
        [
            (
                key,
                a.fingerprint,
                a.status,
                a.starts_ts,
                resolution_ts(a, now) if a.status == "resolved" else None,
                incident_id,
            )
            for a in applied
        ],
    )


def end_all(tx: Tx, incident_id: int, now: float) -> None:
    """End the firing episodes of an incident resolved without a resolved copy from
    Alertmanager (a heartbeat that came back), so its next episode is a re-fire."""
    tx.execute(
        "UPDATE alert_episodes SET status = 'resolved', ends_ts = ?"
        " WHERE incident_id = ? AND status = 'firing'",
        (now, incident_id),
    )
