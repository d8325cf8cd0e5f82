"""Schema migrations, applied in order and recorded in `schema_version`.

Times are unix seconds (REAL); JSON is stored as TEXT. The SQL avoids SQLite-only
syntax so the same migrations serve a PostgreSQL backend.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE webhooks (
            id INTEGER PRIMARY KEY,
            received_at REAL NOT NULL,
            correlation_id TEXT NOT NULL,
            body TEXT NOT NULL,
            state TEXT NOT NULL,
            error TEXT
        )""",
        "CREATE INDEX webhooks_state ON webhooks (state)",
        """CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            receiver TEXT NOT NULL,
            group_key TEXT NOT NULL,
            state TEXT NOT NULL,
            severity TEXT NOT NULL,
            group_labels TEXT NOT NULL,
            common_labels TEXT NOT NULL,
            common_annotations TEXT NOT NULL,
            external_url TEXT NOT NULL,
            truncated_alerts INTEGER NOT NULL,
            correlation_id TEXT NOT NULL,
            storm INTEGER NOT NULL,
            route_channels TEXT NOT NULL,
            route_policies TEXT NOT NULL,
            repeat_interval REAL,
            repeat_due_at REAL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            resolved_at REAL,
            acked_by TEXT,
            acked_at REAL,
            ack_comment TEXT
        )""",
        "CREATE INDEX incidents_key ON incidents (key, id)",
        "CREATE INDEX incidents_state ON incidents (state)",
        "CREATE INDEX incidents_created ON incidents (created_at)",
        "CREATE INDEX incidents_repeat ON incidents (repeat_due_at)",
        """CREATE TABLE incident_alerts (
            incident_id INTEGER NOT NULL,
            fingerprint TEXT NOT NULL,
            status TEXT NOT NULL,
            labels TEXT NOT NULL,
            annotations TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            starts_ts REAL NOT NULL,
            ends_at TEXT,
            generator_url TEXT NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (incident_id, fingerprint)
        )""",
        """CREATE TABLE alert_events (
            incident_key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            status TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            incident_id INTEGER NOT NULL,
            received_at REAL NOT NULL,
            correlation_id TEXT NOT NULL,
            PRIMARY KEY (incident_key, fingerprint, status, starts_at)
        )""",
        "CREATE INDEX alert_events_incident ON alert_events (incident_id)",
        """CREATE TABLE incident_channels (
            incident_id INTEGER NOT NULL,
            channel TEXT NOT NULL,
            PRIMARY KEY (incident_id, channel)
        )""",
        """CREATE TABLE escalations (
            incident_id INTEGER NOT NULL,
            policy TEXT NOT NULL,
            next_step INTEGER NOT NULL,
            due_at REAL,
            active INTEGER NOT NULL,
            PRIMARY KEY (incident_id, policy)
        )""",
        "CREATE INDEX escalations_due ON escalations (active, due_at)",
        """CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER,
            channel TEXT NOT NULL,
            kind TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            correlation_id TEXT NOT NULL,
            snapshot TEXT NOT NULL,
            escalation_step INTEGER,
            digest_id INTEGER,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at REAL NOT NULL,
            window_start REAL NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            last_error TEXT,
            folded_reason TEXT
        )""",
        "CREATE INDEX notifications_state ON notifications (state, next_attempt_at)",
        "CREATE INDEX notifications_incident ON notifications (incident_id)",
        "CREATE INDEX notifications_digest ON notifications (digest_id)",
        """CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            notification_id INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            started_at REAL NOT NULL,
            duration REAL NOT NULL,
            outcome TEXT NOT NULL,
            status TEXT,
            error TEXT,
            retry_after REAL,
            response TEXT
        )""",
        "CREATE INDEX attempts_notification ON attempts (notification_id)",
        """CREATE TABLE timeline (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL,
            at REAL NOT NULL,
            event TEXT NOT NULL,
            detail TEXT NOT NULL
        )""",
        "CREATE INDEX timeline_incident ON timeline (incident_id)",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            actor TEXT NOT NULL,
            role TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL,
            correlation_id TEXT NOT NULL
        )""",
    ],
    # Heartbeats (dead man's switches): the stored deadline is what makes a heartbeat
    # missed while the receiver was down page once on start, and only once.
    [
        """CREATE TABLE heartbeats (
            name TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            since REAL NOT NULL,
            last_seen_at REAL,
            due_at REAL NOT NULL,
            missed_since REAL,
            incident_id INTEGER,
            missed_count INTEGER NOT NULL,
            updated_at REAL NOT NULL
        )""",
    ],
    # The incidents page: server-side sessions (only a digest of the cookie is stored, so a
    # copy of the database holds no live session) and each person's last visit.
    [
        """CREATE TABLE web_sessions (
            id_sha256 TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            csrf TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL
        )""",
        "CREATE INDEX web_sessions_expires ON web_sessions (expires_at)",
        """CREATE TABLE web_visits (
            name TEXT PRIMARY KEY,
            seen_at REAL NOT NULL
        )""",
    ],
    # Alert identity without exact timestamps: the latest episode of each (group,
    # fingerprint), seeded from the incidents' alerts (a resolution's time is taken as
    # when it was recorded, its endsAt being kept only as text). `alert_events`, keyed
    # on startsAt, is no longer read.
    [
        """CREATE TABLE alert_episodes (
            incident_key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            status TEXT NOT NULL,
            starts_ts REAL NOT NULL,
            ends_ts REAL,
            incident_id INTEGER NOT NULL,
            PRIMARY KEY (incident_key, fingerprint)
        )""",
        "CREATE INDEX alert_episodes_incident ON alert_episodes (incident_id)",
        """INSERT INTO alert_episodes (incident_key, fingerprint, status, starts_ts, ends_ts,
            incident_id)
        SELECT i.key, ia.fingerprint, ia.status, ia.starts_ts,
            CASE WHEN ia.status = 'resolved' THEN ia.updated_at END, ia.incident_id
        FROM incident_alerts ia JOIN incidents i ON i.id = ia.incident_id
        WHERE ia.incident_id = (
            SELECT MAX(ia2.incident_id) FROM incident_alerts ia2
            JOIN incidents i2 ON i2.id = ia2.incident_id
            WHERE i2.key = i.key AND ia2.fingerprint = ia.fingerprint
        )""",
        "DROP TABLE alert_events",
    ],
    # Used action-link nonces, each kept until its link expires, so a link acts once.
    [
        """CREATE TABLE action_link_nonces (
            nonce TEXT PRIMARY KEY,
            expires_at REAL NOT NULL,
            used_at REAL NOT NULL
        )""",
        "CREATE INDEX action_link_nonces_expires ON action_link_nonces (expires_at)",
    ],
    # One message per incident and channel (Slack bot messages, Discord webhook messages):
    # what the provider returned for the first post (`ref`: Slack's channel and ts, Discord's
    # message id), so later notifications edit that message and reply in its thread.
    [
        """CREATE TABLE channel_messages (
            incident_id INTEGER NOT NULL,
            channel TEXT NOT NULL,
            ref TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (incident_id, channel)
        )""",
    ],
    # Several receivers on one PostgreSQL: an outbox row is sent by the receiver holding
    # its lease (owner, until when); one open incident per key, enforced by the database,
    # so two receivers processing one new group at once cannot open it twice.
    [
        "ALTER TABLE notifications ADD COLUMN lease_owner TEXT",
        "ALTER TABLE notifications ADD COLUMN lease_expires_at REAL",
        "CREATE UNIQUE INDEX incidents_open_key ON incidents (key) WHERE state <> 'resolved'",
    ],
]
