"""The receiver's own Prometheus metrics, all in one registry served at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

REGISTRY = CollectorRegistry(auto_describe=True)

from prometheus_client import Counter, Gauge, Histogram  # noqa: E402

WEBHOOKS = Counter(
    "tocsin_receiver_webhooks",
    "Webhook requests answered, by HTTP status code.",
    ["code"],
    registry=REGISTRY,
)
ALERTS_RECEIVED = Counter(
    "tocsin_receiver_alerts_received",
    "Alerts received in stored webhooks, by alert status.",
    ["status"],
    registry=REGISTRY,
)
DUPLICATES = Counter(
    "tocsin_receiver_duplicates",
    "Alert events dropped as repeats of an already-seen (fingerprint, status, startsAt).",
    registry=REGISTRY,
)
NOTIFICATIONS = Counter(
    "tocsin_receiver_notifications",
    "Notification delivery attempts, by channel and outcome (delivered, retry, dead_letter).",
    ["channel", "outcome"],
    registry=REGISTRY,
)
NOTIFICATION_DURATION = Histogram(
    "tocsin_receiver_notification_duration_seconds",
    "Time a channel took to deliver (or fail to deliver) one notification.",
    ["channel"],
    registry=REGISTRY,
)
ESCALATIONS = Counter(
    "tocsin_receiver_escalations",
    "Escalation steps fired (including repeats of the last step).",
    registry=REGISTRY,
)
DIGESTS = Counter(
    "tocsin_receiver_digests",
    "Digest messages created from folded notifications, by channel.",
    ["channel"],
    registry=REGISTRY,
)
FOLDED = Counter(
    "tocsin_receiver_notifications_folded",
    "Notifications folded into a digest, by channel and reason (rate_limit, storm).",
    ["channel", "reason"],
    registry=REGISTRY,
)
WEBHOOK_PROCESSING_ERRORS = Counter(
    "tocsin_receiver_webhook_processing_errors",
    "Failed attempts to process stored webhooks, by kind: transient (storage trouble;"
    " retried with backoff) or permanent (the webhook is set aside in state error).",
    ["kind"],
    registry=REGISTRY,
)
EVENTS_DROPPED = Counter(
    "tocsin_receiver_events_dropped",
    "Incident change events not given to a Server-Sent Events subscriber because its"
    " queue was full (a slow client loses events rather than slowing the receiver).",
    registry=REGISTRY,
)
AUTH_FAILURES = Counter(
    "tocsin_receiver_auth_failures",
    "Requests whose credentials were wrong (an invalid token or a malformed Authorization"
    " header; a missing header is not counted).",
    registry=REGISTRY,
)
AUTH_THROTTLED_REQUESTS = Counter(
    "tocsin_receiver_auth_throttled_requests",
    "Requests answered 429 because their client address failed to authenticate too often.",
    registry=REGISTRY,
)
AUTH_THROTTLED_ADDRESSES = Counter(
    "tocsin_receiver_auth_throttled_addresses",
    "Times a client address (an IPv6 /64) was blocked for failed authentications: once per"
    " address and window.",
    registry=REGISTRY,
)
HEARTBEAT_LAST_SEEN = Gauge(
    "tocsin_receiver_heartbeat_last_seen_timestamp_seconds",
    "When a configured heartbeat last arrived (unix seconds), by heartbeat name; read from"
    " the store, so every replica reports the same.",
    ["heartbeat"],
    registry=REGISTRY,
)
HEARTBEAT_MISSED = Counter(
    "tocsin_receiver_heartbeat_missed",
    "Times a configured heartbeat stopped arriving (each paged once), by heartbeat name.",
    ["heartbeat"],
    registry=REGISTRY,
)
REQUEST_BODIES_INCOMPLETE = Counter(
    "tocsin_receiver_request_bodies_incomplete",
    "Request bodies not received in full, by reason: client_abort (the client closed the"
    " connection mid-body; nothing was answered) or timeout (not all sent within"
    " web.body_read_timeout; answered 408 and the connection closed).",
    ["reason"],
    registry=REGISTRY,
)
# From incident creation to its first acknowledgement and to its resolution: 30 s to a day,
# the range an on-call rota's response and repair times fall in.
INCIDENT_TIME_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)
TIME_TO_ACKNOWLEDGE = Histogram(
    "tocsin_receiver_time_to_acknowledge_seconds",
    "Time from an incident's creation to its first acknowledgement, by severity (critical,"
    " warning, info, else other) and route (the channels and escalation policies it went to).",
    ["severity", "route"],
    buckets=INCIDENT_TIME_BUCKETS,
    registry=REGISTRY,
)
TIME_TO_RESOLVE = Histogram(
    "tocsin_receiver_time_to_resolve_seconds",
    "Time from an incident's creation to its resolution (by Alertmanager, by hand or by a"
    " returning heartbeat), by severity (critical, warning, info, else other) and route.",
    ["severity", "route"],
    buckets=INCIDENT_TIME_BUCKETS,
    registry=REGISTRY,
)
PG_NOTIFICATIONS = Counter(
    "tocsin_receiver_pg_notifications",
    "PostgreSQL notifications received from other receivers on the same database, by"
    " channel: `outbox` woke this receiver's outbox worker and scheduler, `events` was"
    " given to its Server-Sent Events subscribers.",
    ["channel"],
    registry=REGISTRY,
)
PG_NOTIFICATIONS_DROPPED = Counter(
    "tocsin_receiver_pg_notifications_dropped",
    "PostgreSQL notifications this receiver could not send to the other receivers (its"
    " queue full while the database was away, or refused): their polling still finds the"
    " work, but their Server-Sent Events subscribers miss those events.",
    registry=REGISTRY,
)
