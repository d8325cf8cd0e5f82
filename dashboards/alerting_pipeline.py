"""Alerting pipeline (alerting-pipeline.json): exporter and receiver self-metrics, Alertmanager,
Prometheus."""

from __future__ import annotations

from dashboards.grafana import Dashboard, Row, Target
from dashboards.panels import RED_FROM_ONE, graph, rate_by, series, stat
from dashboards.promql import quantile, sel, sum_by

TARGET = "{{job}} {{instance}}"
COLLECTOR = "{{instance}} {{collector}}"
FIRING = 'count by (severity) (ALERTS{alertstate="firing"}) or vector(0)'
WEBHOOK_FAILURES = (
    "sum by (instance) (rate(alertmanager_notifications_failed_total"
    '{integration="webhook"}[$__rate_interval]))'
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
                Target(FIRING, "{{severity}}"),
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
                Target(sum_by("state", sel("tocsin_receiver_incidents")), "{{state}}"),
            ),
            graph(
                "Alertmanager webhook failures",
                "Failed webhook notifications per second as Alertmanager counts them.",
                "ops",
                Target(WEBHOOK_FAILURES, "{{instance}}"),
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
                Target(
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


def dashboard() -> Dashboard:
    """Alerting pipeline: targets and collectors, receiver ingestion, notifications."""
    return Dashboard(
        name="alerting-pipeline",
        title="Alerting pipeline",
        description="Exporter collectors, scrapes, the receiver's webhooks, notifications by "
        "channel, outbox, escalations and dead letters.",
        tag="pipeline",
        rows=[targets_and_collectors(), receiver_ingestion(), notifications()],
    )
