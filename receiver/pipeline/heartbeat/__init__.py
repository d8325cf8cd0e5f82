"""Heartbeats (dead man's switches): an always-firing alert whose absence pages.

`seen` is the stage that takes heartbeat alerts out of webhooks and moves their stored
deadlines; `missed` is the timer that pages once a deadline passes; `alert` is the
receiver's own alert for a missed heartbeat, applied through the ordinary stages.
"""
