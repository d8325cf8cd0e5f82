"""Security overview (security-overview.json): auth log, certificates, listeners, files."""

from __future__ import annotations

from dashboards.grafana import Dashboard, Row
from dashboards.panels import (
    Query,
    graph,
    per_second,
    problems,
    query,
    rate_by,
    series,
    stat,
    table,
)
from dashboards.promql import sel, sum_by


def total(metric: str, legend: str) -> Query:
    """The gauge summed over every chosen instance: one number."""
    return query(sum_by("", sel(metric)), legend)


def time_left(metric: str, legend: str) -> Query:
    """Seconds from now until the timestamp the gauge holds."""
    return query(f"{sel(metric)} - time()", legend)


def authentication() -> Row:
    """Auth events, failing sources, root logins and sessions."""
    return Row(
        "Authentication",
        [
            graph(
                "Auth events",
                "Authentication events per second by service and event (sshd, sudo, su).",
                "ops",
                rate_by("service, event", "tocsin_auth_events_total"),
            ),
            graph(
                "Distinct failing sources",
                "Distinct source addresses with failed logins in the sliding window.",
                "short",
                series("tocsin_auth_failure_sources"),
                thresholds=[(20, "red")],
            ),
            graph(
                "Root login attempts",
                "Attempts to log in as root per second.",
                "ops",
                per_second("tocsin_auth_root_login_attempts_total"),
            ),
            graph(
                "Logged-in users",
                "Sessions by type (local, remote).",
                "short",
                series("tocsin_logged_in_users", "{{instance}} {{type}}"),
            ),
        ],
    )


def certificates() -> Row:
    """Time left on certificate files and on the certificates probes saw; expired, unreadable."""
    return Row(
        "Certificates",
        [
            table(
                "Certificate expiry",
                "Time left until notAfter for each certificate file; warning below 14 "
                "days, critical below 3.",
                "s",
                time_left("tocsin_cert_not_after_timestamp_seconds", "{{path}} {{subject_cn}}"),
                thresholds=[(0, "red"), (259200, "orange"), (1209600, "green")],
            ),
            table(
                "Probe certificate expiry",
                "Time left on the certificates served to TLS and HTTPS probes.",
                "s",
                time_left("tocsin_probe_tls_cert_not_after_timestamp_seconds", "{{probe}}"),
            ),
            problems(
                "Expired certificates",
                "Certificates past their notAfter date.",
                total("tocsin_cert_expired", "expired"),
            ),
            stat(
                "Certificate read errors",
                "Certificate files that could not be read or parsed, per second.",
                "ops",
                rate_by("", "tocsin_cert_read_errors_total", "errors"),
            ),
            graph(
                "Unparsable certificate and read errors",
                "Failed reads per second by file: a certificate that stops parsing (a botched "
                "renewal) drops out of the expiry panels and shows here instead; watched files "
                "that could not be read or hashed likewise.",
                "ops",
                rate_by("instance, path", "tocsin_cert_read_errors_total", "cert {{path}}"),
                rate_by("instance, path", "tocsin_file_read_errors_total", "file {{path}}"),
                id=18,
                width=24,
            ),
        ],
    )


def listeners_and_files() -> Row:
    """Listening sockets and those not allowed; watched files changed, missing, modified."""
    return Row(
        "Listeners and files",
        [
            graph(
                "Listening sockets",
                "Listening sockets by protocol.",
                "short",
                series("tocsin_listening_sockets", "{{instance}} {{protocol}}"),
            ),
            table(
                "Unexpected listeners",
                "Listeners not in the allowlist; one row per listener.",
                "short",
                series("tocsin_unexpected_listener_info", ""),
            ),
            problems(
                "Unexpected listener count",
                "Number of listeners not in the allowlist.",
                series("tocsin_unexpected_listeners"),
            ),
            problems(
                "Watched files changed",
                "Watched files whose SHA-256 differs from the baseline.",
                total("tocsin_file_checksum_changed", "changed"),
            ),
            problems(
                "Watched files missing",
                "Watched files that do not exist.",
                total("tocsin_file_missing", "missing"),
            ),
            table(
                "Watched files last modified",
                "Modification time of each watched file.",
                "dateTimeFromNow",
                query(f"{sel('tocsin_file_mtime_seconds')} * 1000", "{{path}}"),
                width=6,
                height=4,
            ),
        ],
    )


def dashboard() -> Dashboard:
    """Security overview: authentication, certificates, listeners and files."""
    return Dashboard(
        name="security-overview",
        title="Security overview",
        description="Authentication events, certificates, listening sockets, sessions and "
        "watched files. No usernames or addresses: the exporter never exposes them.",
        tag="security",
        job_metric="tocsin_exporter_collector_success",
        rows=[authentication(), certificates(), listeners_and_files()],
    )
