"""Follow growing log files and the systemd journal without losing or repeating lines.

- `files`: `FileFollower`, one path followed across rotation, truncation and restarts.
- `journal`: `JournalFollower`, `journalctl -o json -f` resumed from its cursor.
- `positions`: where each follower keeps its read position, written atomically.
- `sink`: what both hand their lines to.
"""
