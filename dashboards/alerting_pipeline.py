"""Alerting pipeline (alerting-pipeline.json): exporter and receiver self-metrics, Alertmanager,
Prometheus."""

from __future__ import annotations

from dashboards.grafana import Dashboard, Row
from dashboards.panels import RED_FROM_ONE, Query, graph, query, rate_by, series, stat
from dashboards.promql import CLUSTER, quantile, sel, sum_by, sum_rate

TARGET = "{{job}} {{instance}}"
COLLECTOR = "{{instance}} {{collector}}"
FIRING = 'count by (severity) (ALERTS{alertstate="firing", cluster=~"$cluster"}) or vector(0)'
WEBHOOK_FAILURES = (
    "sum by (cluster, instance) (rate(alertmanager_notifications_failed_total"
    '{integration="webhook", cluster=~"$cluster"}[$__rate_interval]))'
)


def targets_and_collectors() -> Row:
    """Prometheus's targets and scrapes, the exporter's collectors, the alerts firing."""
    return Row(
        "Targets and collectors",
        [
            stat(
                "Targets up",
                "1 when Prometheus's last scrape of the target succeeded.",
                "bool_yes_no",
                series("up", TARGET),
                width=8,
                height=8,
            ),
            graph(
                "Collector success",
                "1 when the collector's last run succeeded; 0 means its metrics are missing.",
                "bool_yes_no",
                series("tocsin_exporter_collector_success", COLLECTOR),
                width=8,
            ),
            graph(
                "Collector duration",
                "Seconds each collector took in its last run.",
                "s",
                series("tocsin_exporter_collector_duration_seconds", COLLECTOR),
                width=8,
            ),
            graph(
                "Scrape duration",
                "How long Prometheus's scrapes of each target take.",
                "s",
                series("scrape_duration_seconds", TARGET),
            ),
            graph(
                "Firing alerts",
                "Alerts firing in Prometheus now, by severity.",
                "short",
                query(FIRING, "{{severity}}"),
            ),
        ],
    )


def receiver_ingestion() -> Row:
    """Webhooks answered, alerts and duplicates received, incidents held, Alertmanager's side."""
    return Row(
        "Receiver ingestion",
        [
            graph(
                "Webhooks",
                "Webhook requests answered per second by HTTP status code.",
                "reqps",
                rate_by("code", "tocsin_receiver_webhooks_total"),
            ),
            graph(
                "Alerts received",
                "Alerts in stored webhooks per second, by status; and duplicates dropped.",
                "ops",
                rate_by("status", "tocsin_receiver_alerts_received_total"),
                rate_by("", "tocsin_receiver_duplicates_total", "duplicates"),
            ),
            graph(
                "Incidents by state",
                "Incidents the receiver holds, by state.",
                "short",
                query(sum_by("state", sel("tocsin_receiver_incidents")), "{{state}}"),
            ),
            graph(
                "Alertmanager webhook failures",
                "Failed webhook notifications per second as Alertmanager counts them.",
                "ops",
                query(WEBHOOK_FAILURES, "{{instance}}"),
            ),
        ],
    )


def notifications() -> Row:
    """Deliveries by channel, their duration, the outbox, dead letters, escalations, templates."""
    return Row(
        "Notifications",
        [
            graph(
                "Notifications by channel",
                "Delivery attempts per second by channel and outcome "
                "(delivered, retry, dead_letter).",
                "ops",
                rate_by("channel, outcome", "tocsin_receiver_notifications_total"),
            ),
            graph(
                "Notification duration p99",
                "99th percentile of the time a channel takes to deliver.",
                "s",
                query(
                    quantile("0.99", "channel", "tocsin_receiver_notification_duration_seconds"),
                    "{{channel}}",
                ),
            ),
            graph(
                "Outbox pending",
                "Notifications stored and not yet delivered.",
                "short",
                series("tocsin_receiver_outbox_pending"),
                width=8,
            ),
            graph(
                "Outbox oldest age",
                "Age of the oldest undelivered notification; TocsinOutboxStale above 10m.",
                "s",
                series("tocsin_receiver_outbox_oldest_age_seconds"),
                width=8,
                thresholds=[(600, "red")],
            ),
            graph(
                "Dead letters",
                "Notifications given up and waiting for a replay.",
                "short",
                series("tocsin_receiver_dead_letters"),
                width=8,
                thresholds=RED_FROM_ONE,
            ),
            graph(
                "Escalations and digests",
                "Escalation steps fired and digest messages created per second.",
                "ops",
                rate_by("", "tocsin_receiver_escalations_total", "escalations"),
                rate_by("channel", "tocsin_receiver_digests_total", "digests {{channel}}"),
            ),
            graph(
                "Template errors",
                "Templates that failed to render and fell back to the built-in one.",
                "ops",
                rate_by("channel, template", "tocsin_receiver_template_errors_total"),
            ),
        ],
    )


def response_times(kind: str) -> list[Query]:
    """The recorded p50 and p90 over the last day of a `time_to_<kind>_seconds` histogram."""
    record = f"cluster_severity:tocsin_receiver_time_to_{kind}_seconds"
    return [query(f"{record}:{q}_1d{{{CLUSTER}}}", "{{severity}} " + q) for q in ("p50", "p90")]


def internal_error(metric: str, what: str) -> Query:
    """One self-reported error counter's rate per target, named by what failed."""
    return query(sum_rate("job, instance", metric), "{{instance}} " + what)


def incident_response() -> Row:
    """MTTA and MTTR by severity, and the errors the exporter and receiver count in
    themselves."""
    return Row(
        "Incident response and internal errors",
        [
            graph(
                "Time to acknowledge (MTTA)",
                "Median and 90th percentile over the last day of the time from an incident's "
                "creation to its first acknowledgement, by severity "
                "(tocsin_receiver_time_to_acknowledge_seconds, recorded in "
                "rules/dashboards.rules.yml).",
                "s",
                *response_times("acknowledge"),
                id=20,
            ),
            graph(
                "Time to resolve (MTTR)",
                "Median and 90th percentile over the last day of the time from an incident's "
                "creation to its resolution, by severity "
                "(tocsin_receiver_time_to_resolve_seconds, recorded in "
                "rules/dashboards.rules.yml).",
                "s",
                *response_times("resolve"),
                id=21,
            ),
            graph(
                "Exporter and receiver internal errors",
                "Errors per second the services count in themselves: label values folded by "
                "the cardinality caps, failed writes of read positions under state_dir, "
                "templates that fell back to the built-in one, webhooks whose processing "
                "failed (retried or set aside).",
                "ops",
                internal_error("tocsin_exporter_label_overflow_total", "label overflow"),
                internal_error("tocsin_log_state_write_errors_total", "log state write"),
                internal_error("tocsin_auth_log_state_write_errors_total", "auth state write"),
                internal_error("tocsin_file_state_write_errors_total", "file state write"),
                internal_error("tocsin_receiver_template_errors_total", "template"),
                internal_error(
                    "tocsin_receiver_webhook_processing_errors_total", "webhook processing"
                ),
                id=22,
                width=24,
            ),
        ],
        id=23,
    )


def dashboard() -> Dashboard:
    """Alerting pipeline: targets and collectors, receiver ingestion, notifications."""
    return Dashboard(
        name="alerting-pipeline",
        title="Alerting pipeline",
        description="Exporter collectors, scrapes, the receiver's webhooks, notifications by "
        "channel, outbox, escalations and dead letters.",
        tag="pipeline",
        rows=[targets_and_collectors(), receiver_ingestion(), notifications(), incident_response()],
    )
