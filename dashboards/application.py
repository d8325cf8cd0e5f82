"""Application (application.json): RED metrics from access logs, probes and process groups."""

from __future__ import annotations

from dashboards.grafana import Dashboard, Row
from dashboards.panels import RED_FROM_ONE, fraction, graph, query, rate_by, series, stat
from dashboards.promql import quantile, sel, sum_rate

REQUESTS = "tocsin_http_requests_total"
LINES = "tocsin_log_lines_total"
BY_LOG = "job, instance, log"
GROUP = "{{instance}} {{group}}"


def requests() -> Row:
    """Rate, errors and duration of the requests in the access logs, and the logs themselves."""
    quantiles = [
        query(quantile(q, "log", "tocsin_http_request_duration_seconds"), f"{{{{log}}}} p{name}")
        for q, name in (("0.5", "50"), ("0.95", "95"), ("0.99", "99"))
    ]
    total = sum_rate(BY_LOG, REQUESTS)
    errors = sum_rate(BY_LOG, REQUESTS, 'code=~"5.."')
    lines = sum_rate(BY_LOG, LINES)
    unparsed = sum_rate(BY_LOG, LINES, 'outcome="unparsed"')
    return Row(
        "Requests (RED)",
        [
            graph(
                "Request rate",
                "Requests per second by log and status code, from the access logs.",
                "reqps",
                rate_by("log, code", REQUESTS),
            ),
            fraction(
                "Error ratio (5xx)",
                "Share of requests answered 5xx; AppHttp5xxRatioHigh fires above 5%.",
                query(f"({errors} or {total} * 0) / {total}", "{{log}}"),
                max=None,
                thresholds=[(0.05, "red")],
            ),
            graph(
                "Request duration p50 / p95 / p99",
                "Quantiles estimated from the request-duration histogram "
                "(needs a latency field such as nginx $request_time).",
                "s",
                *quantiles,
            ),
            graph(
                "Response bytes",
                "Response body bytes per second by log.",
                "Bps",
                rate_by("log", "tocsin_http_response_size_bytes_total"),
            ),
            graph(
                "Log lines",
                "Access-log lines per second, parsed and unparsed; unparsed lines mean "
                "a format mismatch.",
                "ops",
                rate_by("log, outcome", LINES),
            ),
            graph(
                "Label overflow",
                "Label values folded into __other__ by the cardinality caps, per second.",
                "ops",
                rate_by("instance", "tocsin_exporter_label_overflow_total"),
            ),
            fraction(
                "Log lines unparsed (format drift)",
                "Share of the lines read that did not parse, per log. Near 1 while lines keep "
                "arriving means the log's format changed (a new log_format, another app "
                "writing it): the request panels above then go quiet although traffic goes on.",
                query(f"({unparsed} or {lines} * 0) / {lines}", "{{instance}} {{log}}"),
                id=19,
                width=24,
                thresholds=[(0.5, "red")],
            ),
        ],
    )


def probes() -> Row:
    """Success, phase durations and HTTP status of the last run of each probe."""
    return Row(
        "Probes",
        [
            stat(
                "Probe success",
                "1 when the last run of each probe succeeded.",
                "bool_yes_no",
                series("tocsin_probe_success", "{{probe}}"),
                width=8,
                height=8,
            ),
            graph(
                "Probe duration by phase",
                "Duration of the last run of each probe, by phase.",
                "s",
                series("tocsin_probe_duration_seconds", "{{probe}} {{phase}}"),
                width=8,
            ),
            stat(
                "Probe HTTP status",
                "HTTP status code of the last run of each HTTP probe.",
                "none",
                series("tocsin_probe_http_status_code", "{{probe}}"),
                width=8,
                height=8,
            ),
        ],
    )


def process_groups() -> Row:
    """Count, CPU, memory, files, threads and age of each process group; textfile errors."""
    return Row(
        "Process groups",
        [
            graph(
                "Processes",
                "Running processes per group; AppProcessGroupDown fires at 0.",
                "short",
                series("tocsin_process_count", GROUP),
            ),
            graph(
                "Process CPU",
                "CPU seconds per second per group (user + system).",
                "percentunit",
                rate_by("instance, group", "tocsin_process_cpu_seconds_total"),
            ),
            graph(
                "Process resident memory",
                "Resident set size per group.",
                "bytes",
                series("tocsin_process_resident_memory_bytes", GROUP),
            ),
            graph(
                "Process open files and threads",
                "Open file descriptors and threads per group.",
                "short",
                series("tocsin_process_open_fds", "{{group}} fds"),
                series("tocsin_process_threads", "{{group}} threads"),
            ),
            graph(
                "Process age",
                "Time since the oldest process of each group started; drops on restart.",
                "s",
                query(f"time() - {sel('tocsin_process_oldest_start_time_seconds')}", GROUP),
            ),
            graph(
                "Textfile errors",
                "1 when a *.prom file in the textfile directory could not be read.",
                "short",
                series("node_textfile_scrape_error"),
                thresholds=RED_FROM_ONE,
            ),
        ],
    )


def dashboard() -> Dashboard:
    """Application: requests (RED), probes, process groups."""
    return Dashboard(
        name="application",
        title="Application",
        description="Requests, errors and duration from access logs; probes; process groups.",
        tag="application",
        job_metric="tocsin_exporter_collector_success",
        rows=[requests(), probes(), process_groups()],
    )
