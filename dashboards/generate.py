"""Generate tocsin's Grafana dashboards as JSON.

`python -m dashboards.generate` rewrites dashboards/*.json; `--check` only compares and exits
1 when a committed file differs. Dashboards are plain dicts in Grafana's JSON model (schema
39) so they import through the UI and through file provisioning alike. Portability rules:
the datasource is always the `${datasource}` template variable, never a literal UID; rate
queries use `$__rate_interval`; every panel has a unit and a description; uids are fixed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT_DIR = Path(__file__).resolve().parent
DS: dict[str, str] = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'job=~"$job", instance=~"$instance"'
SCHEMA_VERSION = 39


@dataclass
class Target:
    """One PromQL query of a panel."""

    expr: str
    legend: str = ""


@dataclass
class Panel:
    """A panel: a time series by default, a stat or table when asked."""

    title: str
    description: str
    unit: str
    targets: list[Target]
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    min: float | None = None
    max: float | None = None
    thresholds: list[tuple[float, str]] = field(default_factory=list)


@dataclass
class Row:
    """A titled row of panels."""

    title: str
    panels: list[Panel]


@dataclass
class Dashboard:
    """A whole dashboard; `job_metric` picks the series the job/instance variables list."""

    uid: str
    title: str
    description: str
    tags: list[str]
    rows: list[Row]
    job_metric: str = "up"


def variables(job_metric: str) -> list[dict[str, Any]]:
    """The datasource, job and instance template variables."""

    def query_var(name: str, label: str, query: str) -> dict[str, Any]:
        return {
            "name": name,
            "label": label,
            "type": "query",
            "datasource": DS,
            "query": {"query": query, "refId": f"{name}-var"},
            "definition": query,
            "refresh": 2,
            "includeAll": True,
            "allValue": ".*",
            "multi": True,
            "sort": 1,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "hide": 0,
        }

    return [
        {
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "refresh": 1,
            "current": {},
            "hide": 0,
        },
        query_var("job", "Job", f"label_values({job_metric}, job)"),
        query_var("instance", "Instance", f'label_values({job_metric}{{job=~"$job"}}, instance)'),
    ]


def render_panel(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    """Grafana JSON for one panel at a grid position."""
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": color, "value": value} for value, color in panel.thresholds]
    defaults: dict[str, Any] = {
        "unit": panel.unit,
        "thresholds": {"mode": "absolute", "steps": steps},
    }
    if panel.min is not None:
        defaults["min"] = panel.min
    if panel.max is not None:
        defaults["max"] = panel.max
    if panel.kind == "timeseries":
        defaults["custom"] = {"drawStyle": "line", "fillOpacity": 10, "showPoints": "never"}
    options: dict[str, Any] = {"legend": {"displayMode": "list", "placement": "bottom"}}
    if panel.kind == "stat":
        options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}
    if panel.kind == "table":
        options = {"showHeader": True}
    targets = []
    for i, target in enumerate(panel.targets):
        item: dict[str, Any] = {
            "refId": chr(ord("A") + i),
            "datasource": DS,
            "expr": target.expr,
            "legendFormat": target.legend or "__auto",
        }
        if panel.kind == "table":
            item.update({"instant": True, "format": "table"})
        targets.append(item)
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DS,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
        "targets": targets,
    }


def render(dash: Dashboard) -> dict[str, Any]:
    """Grafana JSON for a dashboard, panels laid out left to right, rows top to bottom."""
    panels: list[dict[str, Any]] = []
    next_id = 1
    y = 0
    for row in dash.rows:
        panels.append(
            {
                "id": next_id,
                "type": "row",
                "title": row.title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        next_id += 1
        y += 1
        x = 0
        line_height = 0
        for panel in row.panels:
            if x + panel.width > 24:
                x, y, line_height = 0, y + line_height, 0
            panels.append(render_panel(panel, next_id, x, y))
            next_id += 1
            x += panel.width
            line_height = max(line_height, panel.height)
        y += line_height
    return {
        "uid": dash.uid,
        "title": dash.title,
        "description": dash.description,
        "tags": ["tocsin", *dash.tags],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "links": [
            {
                "title": "tocsin dashboards",
                "type": "dashboards",
                "tags": ["tocsin"],
                "asDropdown": True,
                "includeVars": True,
                "keepTime": True,
            }
        ],
        "templating": {"list": variables(dash.job_metric)},
        "panels": panels,
    }


def rate(metric: str, extra: str = "") -> str:
    """`rate(metric{job, instance[, extra]}[$__rate_interval])`."""
    selector = SEL + (", " + extra if extra else "")
    return f"rate({metric}{{{selector}}}[$__rate_interval])"


def sum_rate(by: str, metric: str, extra: str = "") -> str:
    """`sum by (labels) (rate(...))`, or `sum(rate(...))` when `by` is empty."""
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} ({rate(metric, extra)})"


def host() -> Dashboard:
    """Host overview on node_exporter-compatible metrics."""
    fs = 'fstype!="", mountpoint!=""'
    return Dashboard(
        uid="tocsin-host-overview",
        title="tocsin / Host overview",
        description="CPU, memory, filesystems, disks, network and kernel counters per host.",
        tags=["host"],
        job_metric="node_uname_info",
        rows=[
            Row(
                "Summary",
                [
                    Panel(
                        "Uptime",
                        "Time since the host booted (node_boot_time_seconds).",
                        "s",
                        [Target(f"time() - node_boot_time_seconds{{{SEL}}}", "{{instance}}")],
                        kind="stat",
                        width=6,
                        height=4,
                    ),
                    Panel(
                        "CPUs",
                        "Number of logical CPUs.",
                        "short",
                        [
                            Target(
                                "count by (instance) (node_cpu_seconds_total"
                                f'{{{SEL}, mode="idle"}})',
                                "{{instance}}",
                            )
                        ],
                        kind="stat",
                        width=6,
                        height=4,
                    ),
                    Panel(
                        "Memory total",
                        "Total usable memory (MemTotal).",
                        "bytes",
                        [Target(f"node_memory_MemTotal_bytes{{{SEL}}}", "{{instance}}")],
                        kind="stat",
                        width=6,
                        height=4,
                    ),
                    Panel(
                        "Clock offset",
                        "Host clock minus Prometheus's clock at scrape time; alerts above 1s.",
                        "s",
                        [
                            Target(
                                f"node_time_seconds{{{SEL}}}"
                                f" - timestamp(node_time_seconds{{{SEL}}})",
                                "{{instance}}",
                            )
                        ],
                        kind="stat",
                        width=6,
                        height=4,
                        thresholds=[(1, "red")],
                    ),
                ],
            ),
            Row(
                "CPU and memory",
                [
                    Panel(
                        "CPU utilisation",
                        "Share of CPU time not idle, waiting for I/O or stolen; HostCpuSaturated "
                        "fires above 90% for 15m.",
                        "percentunit",
                        [
                            Target(
                                "1 - avg by (instance) (sum without (mode) ("
                                + rate("node_cpu_seconds_total", 'mode=~"idle|iowait|steal"')
                                + "))",
                                "{{instance}}",
                            )
                        ],
                        min=0,
                        max=1,
                        thresholds=[(0.9, "red")],
                    ),
                    Panel(
                        "CPU by mode",
                        "CPU seconds per second by mode, summed over CPUs.",
                        "percentunit",
                        [
                            Target(
                                "sum by (instance, mode) ("
                                + rate("node_cpu_seconds_total", 'mode!="idle"')
                                + ") / on (instance) group_left count by (instance) "
                                f'(node_cpu_seconds_total{{{SEL}, mode="idle"}})',
                                "{{instance}} {{mode}}",
                            )
                        ],
                        min=0,
                    ),
                    Panel(
                        "Load per CPU",
                        "1-minute load average divided by the number of CPUs.",
                        "short",
                        [
                            Target(
                                f"node_load1{{{SEL}}} / on (instance) count by (instance) "
                                f'(node_cpu_seconds_total{{{SEL}, mode="idle"}})',
                                "{{instance}}",
                            )
                        ],
                        min=0,
                    ),
                    Panel(
                        "Memory utilisation",
                        "1 - MemAvailable / MemTotal; HostMemoryExhaustion fires above 95%.",
                        "percentunit",
                        [
                            Target(
                                f"1 - node_memory_MemAvailable_bytes{{{SEL}}} "
                                f"/ node_memory_MemTotal_bytes{{{SEL}}}",
                                "{{instance}}",
                            )
                        ],
                        min=0,
                        max=1,
                        thresholds=[(0.95, "red")],
                    ),
                    Panel(
                        "Major page faults",
                        "Pages read back from disk per second: memory pressure "
                        "(HostMemoryPressure above 500/s).",
                        "ops",
                        [Target(rate("node_vmstat_pgmajfault"), "{{instance}}")],
                    ),
                    Panel(
                        "OOM kills",
                        "Processes killed by the kernel's OOM killer per second.",
                        "ops",
                        [Target(rate("node_vmstat_oom_kill"), "{{instance}}")],
                    ),
                ],
            ),
            Row(
                "Filesystems",
                [
                    Panel(
                        "Filesystem space available",
                        "Available share of each filesystem; HostFilesystemAlmostFull below 10%.",
                        "percentunit",
                        [
                            Target(
                                f"node_filesystem_avail_bytes{{{SEL}, {fs}}} "
                                f"/ node_filesystem_size_bytes{{{SEL}, {fs}}}",
                                "{{instance}} {{mountpoint}}",
                            )
                        ],
                        min=0,
                        max=1,
                    ),
                    Panel(
                        "Predicted free space in 24h",
                        "predict_linear over 6h: negative means the filesystem fills within 24h.",
                        "bytes",
                        [
                            Target(
                                f"predict_linear(node_filesystem_avail_bytes{{{SEL}, {fs}}}[6h], "
                                "24 * 3600)",
                                "{{instance}} {{mountpoint}}",
                            )
                        ],
                    ),
                    Panel(
                        "Inodes free",
                        "Free share of inodes per filesystem.",
                        "percentunit",
                        [
                            Target(
                                f"node_filesystem_files_free{{{SEL}, {fs}}} "
                                f"/ node_filesystem_files{{{SEL}, {fs}}}",
                                "{{instance}} {{mountpoint}}",
                            )
                        ],
                        min=0,
                        max=1,
                    ),
                    Panel(
                        "File descriptors allocated",
                        "System-wide allocated file descriptors over the maximum.",
                        "percentunit",
                        [
                            Target(
                                f"node_filefd_allocated{{{SEL}}} / node_filefd_maximum{{{SEL}}}",
                                "{{instance}}",
                            )
                        ],
                        min=0,
                    ),
                ],
            ),
            Row(
                "Disks and network",
                [
                    Panel(
                        "Disk busy",
                        "Share of time each disk had I/O in flight (io_time).",
                        "percentunit",
                        [
                            Target(
                                rate("node_disk_io_time_seconds_total"), "{{instance}} {{device}}"
                            )
                        ],
                        min=0,
                        max=1,
                    ),
                    Panel(
                        "Disk I/O latency",
                        "Average time per completed read or write.",
                        "s",
                        [
                            Target(
                                "("
                                + rate("node_disk_read_time_seconds_total")
                                + " + "
                                + rate("node_disk_write_time_seconds_total")
                                + ") / ("
                                + rate("node_disk_reads_completed_total")
                                + " + "
                                + rate("node_disk_writes_completed_total")
                                + ")",
                                "{{instance}} {{device}}",
                            )
                        ],
                    ),
                    Panel(
                        "Disk throughput",
                        "Bytes read and written per second.",
                        "Bps",
                        [
                            Target(
                                rate("node_disk_read_bytes_total"), "{{instance}} {{device}} read"
                            ),
                            Target(
                                rate("node_disk_written_bytes_total"),
                                "{{instance}} {{device}} written",
                            ),
                        ],
                    ),
                    Panel(
                        "Network traffic",
                        "Bytes received and transmitted per second, loopback excluded.",
                        "Bps",
                        [
                            Target(
                                rate("node_network_receive_bytes_total", 'device!="lo"'),
                                "{{instance}} {{device}} rx",
                            ),
                            Target(
                                rate("node_network_transmit_bytes_total", 'device!="lo"'),
                                "{{instance}} {{device}} tx",
                            ),
                        ],
                    ),
                    Panel(
                        "Network errors and drops",
                        "Packets with errors or dropped per second, both directions.",
                        "pps",
                        [
                            Target(
                                rate("node_network_receive_errs_total", 'device!="lo"')
                                + " + "
                                + rate("node_network_transmit_errs_total", 'device!="lo"'),
                                "{{instance}} {{device}} errors",
                            ),
                            Target(
                                rate("node_network_receive_drop_total", 'device!="lo"')
                                + " + "
                                + rate("node_network_transmit_drop_total", 'device!="lo"'),
                                "{{instance}} {{device}} drops",
                            ),
                        ],
                    ),
                    Panel(
                        "Context switches and forks",
                        "Kernel context switches and new processes per second.",
                        "ops",
                        [
                            Target(rate("node_context_switches_total"), "{{instance}} switches"),
                            Target(rate("node_forks_total"), "{{instance}} forks"),
                        ],
                    ),
                ],
            ),
        ],
    )


def application() -> Dashboard:
    """RED metrics from access logs, probes and process groups."""
    by_log = "job, instance, log"
    quantiles = [
        Target(
            f"histogram_quantile({q}, sum by (le, log) ("
            + rate("tocsin_http_request_duration_seconds_bucket")
            + "))",
            f"{{{{log}}}} p{name}",
        )
        for q, name in (("0.5", "50"), ("0.95", "95"), ("0.99", "99"))
    ]
    return Dashboard(
        uid="tocsin-application",
        title="tocsin / Application",
        description="Requests, errors and duration from access logs; probes; process groups.",
        tags=["application"],
        job_metric="tocsin_exporter_collector_success",
        rows=[
            Row(
                "Requests (RED)",
                [
                    Panel(
                        "Request rate",
                        "Requests per second by log and status code, from the access logs.",
                        "reqps",
                        [
                            Target(
                                f"sum by (log, code) ({rate('tocsin_http_requests_total')})",
                                "{{log}} {{code}}",
                            )
                        ],
                    ),
                    Panel(
                        "Error ratio (5xx)",
                        "Share of requests answered 5xx; AppHttp5xxRatioHigh fires above 5%.",
                        "percentunit",
                        [
                            Target(
                                "("
                                + sum_rate(by_log, "tocsin_http_requests_total", 'code=~"5.."')
                                + " or "
                                + sum_rate(by_log, "tocsin_http_requests_total")
                                + " * 0) / "
                                + sum_rate(by_log, "tocsin_http_requests_total"),
                                "{{log}}",
                            )
                        ],
                        min=0,
                        thresholds=[(0.05, "red")],
                    ),
                    Panel(
                        "Request duration p50 / p95 / p99",
                        "Quantiles estimated from the request-duration histogram "
                        "(needs a latency field such as nginx $request_time).",
                        "s",
                        quantiles,
                    ),
                    Panel(
                        "Response bytes",
                        "Response body bytes per second by log.",
                        "Bps",
                        [
                            Target(
                                f"sum by (log) ({rate('tocsin_http_response_size_bytes_total')})",
                                "{{log}}",
                            )
                        ],
                    ),
                    Panel(
                        "Log lines",
                        "Access-log lines per second, parsed and unparsed; unparsed lines mean "
                        "a format mismatch.",
                        "ops",
                        [
                            Target(
                                f"sum by (log, outcome) ({rate('tocsin_log_lines_total')})",
                                "{{log}} {{outcome}}",
                            )
                        ],
                    ),
                    Panel(
                        "Label overflow",
                        "Label values folded into __other__ by the cardinality caps, per second.",
                        "ops",
                        [
                            Target(
                                sum_rate("instance", "tocsin_exporter_label_overflow_total"),
                                "{{instance}}",
                            )
                        ],
                    ),
                ],
            ),
            Row(
                "Probes",
                [
                    Panel(
                        "Probe success",
                        "1 when the last run of each probe succeeded.",
                        "bool_yes_no",
                        [Target(f"tocsin_probe_success{{{SEL}}}", "{{probe}}")],
                        kind="stat",
                        width=8,
                    ),
                    Panel(
                        "Probe duration by phase",
                        "Duration of the last run of each probe, by phase.",
                        "s",
                        [Target(f"tocsin_probe_duration_seconds{{{SEL}}}", "{{probe}} {{phase}}")],
                        width=8,
                    ),
                    Panel(
                        "Probe HTTP status",
                        "HTTP status code of the last run of each HTTP probe.",
                        "none",
                        [Target(f"tocsin_probe_http_status_code{{{SEL}}}", "{{probe}}")],
                        kind="stat",
                        width=8,
                    ),
                ],
            ),
            Row(
                "Process groups",
                [
                    Panel(
                        "Processes",
                        "Running processes per group; AppProcessGroupDown fires at 0.",
                        "short",
                        [Target(f"tocsin_process_count{{{SEL}}}", "{{instance}} {{group}}")],
                    ),
                    Panel(
                        "Process CPU",
                        "CPU seconds per second per group (user + system).",
                        "percentunit",
                        [
                            Target(
                                sum_rate("instance, group", "tocsin_process_cpu_seconds_total"),
                                "{{instance}} {{group}}",
                            )
                        ],
                    ),
                    Panel(
                        "Process resident memory",
                        "Resident set size per group.",
                        "bytes",
                        [
                            Target(
                                f"tocsin_process_resident_memory_bytes{{{SEL}}}",
                                "{{instance}} {{group}}",
                            )
                        ],
                    ),
                    Panel(
                        "Process open files and threads",
                        "Open file descriptors and threads per group.",
                        "short",
                        [
                            Target(f"tocsin_process_open_fds{{{SEL}}}", "{{group}} fds"),
                            Target(f"tocsin_process_threads{{{SEL}}}", "{{group}} threads"),
                        ],
                    ),
                    Panel(
                        "Process age",
                        "Time since the oldest process of each group started; drops on restart.",
                        "s",
                        [
                            Target(
                                f"time() - tocsin_process_oldest_start_time_seconds{{{SEL}}}",
                                "{{instance}} {{group}}",
                            )
                        ],
                    ),
                    Panel(
                        "Textfile errors",
                        "1 when a *.prom file in the textfile directory could not be read.",
                        "short",
                        [Target(f"node_textfile_scrape_error{{{SEL}}}", "{{instance}}")],
                        thresholds=[(1, "red")],
                    ),
                ],
            ),
        ],
    )


def security() -> Dashboard:
    """Auth log, certificates, listeners, sessions and file integrity."""
    return Dashboard(
        uid="tocsin-security-overview",
        title="tocsin / Security overview",
        description="Authentication events, certificates, listening sockets, sessions and "
        "watched files. No usernames or addresses: the exporter never exposes them.",
        tags=["security"],
        job_metric="tocsin_exporter_collector_success",
        rows=[
            Row(
                "Authentication",
                [
                    Panel(
                        "Auth events",
                        "Authentication events per second by service and event (sshd, sudo, su).",
                        "ops",
                        [
                            Target(
                                f"sum by (service, event) ({rate('tocsin_auth_events_total')})",
                                "{{service}} {{event}}",
                            )
                        ],
                    ),
                    Panel(
                        "Distinct failing sources",
                        "Distinct source addresses with failed logins in the sliding window.",
                        "short",
                        [Target(f"tocsin_auth_failure_sources{{{SEL}}}", "{{instance}}")],
                        thresholds=[(20, "red")],
                    ),
                    Panel(
                        "Root login attempts",
                        "Attempts to log in as root per second.",
                        "ops",
                        [Target(rate("tocsin_auth_root_login_attempts_total"), "{{instance}}")],
                    ),
                    Panel(
                        "Logged-in users",
                        "Sessions by type (local, remote).",
                        "short",
                        [Target(f"tocsin_logged_in_users{{{SEL}}}", "{{instance}} {{type}}")],
                    ),
                ],
            ),
            Row(
                "Certificates",
                [
                    Panel(
                        "Certificate expiry",
                        "Time left until notAfter for each certificate file; warning below 14 "
                        "days, critical below 3.",
                        "s",
                        [
                            Target(
                                f"tocsin_cert_not_after_timestamp_seconds{{{SEL}}} - time()",
                                "{{path}} {{subject_cn}}",
                            )
                        ],
                        kind="table",
                        thresholds=[(0, "red"), (259200, "orange"), (1209600, "green")],
                    ),
                    Panel(
                        "Probe certificate expiry",
                        "Time left on the certificates served to TLS and HTTPS probes.",
                        "s",
                        [
                            Target(
                                f"tocsin_probe_tls_cert_not_after_timestamp_seconds{{{SEL}}}"
                                " - time()",
                                "{{probe}}",
                            )
                        ],
                        kind="table",
                    ),
                    Panel(
                        "Expired certificates",
                        "Certificates past their notAfter date.",
                        "short",
                        [Target(f"sum(tocsin_cert_expired{{{SEL}}})", "expired")],
                        kind="stat",
                        width=6,
                        height=4,
                        thresholds=[(1, "red")],
                    ),
                    Panel(
                        "Certificate read errors",
                        "Certificate files that could not be read or parsed, per second.",
                        "ops",
                        [Target(f"sum({rate('tocsin_cert_read_errors_total')})", "errors")],
                        kind="stat",
                        width=6,
                        height=4,
                    ),
                ],
            ),
            Row(
                "Listeners and files",
                [
                    Panel(
                        "Listening sockets",
                        "Listening sockets by protocol.",
                        "short",
                        [
                            Target(
                                f"tocsin_listening_sockets{{{SEL}}}",
                                "{{instance}} {{protocol}}",
                            )
                        ],
                    ),
                    Panel(
                        "Unexpected listeners",
                        "Listeners not in the allowlist; one row per listener.",
                        "short",
                        [Target(f"tocsin_unexpected_listener_info{{{SEL}}}", "")],
                        kind="table",
                    ),
                    Panel(
                        "Unexpected listener count",
                        "Number of listeners not in the allowlist.",
                        "short",
                        [Target(f"tocsin_unexpected_listeners{{{SEL}}}", "{{instance}}")],
                        kind="stat",
                        width=6,
                        height=4,
                        thresholds=[(1, "red")],
                    ),
                    Panel(
                        "Watched files changed",
                        "Watched files whose SHA-256 differs from the baseline.",
                        "short",
                        [Target(f"sum(tocsin_file_checksum_changed{{{SEL}}})", "changed")],
                        kind="stat",
                        width=6,
                        height=4,
                        thresholds=[(1, "red")],
                    ),
                    Panel(
                        "Watched files missing",
                        "Watched files that do not exist.",
                        "short",
                        [Target(f"sum(tocsin_file_missing{{{SEL}}})", "missing")],
                        kind="stat",
                        width=6,
                        height=4,
                        thresholds=[(1, "red")],
                    ),
                    Panel(
                        "Watched files last modified",
                        "Modification time of each watched file.",
                        "dateTimeFromNow",
                        [Target(f"tocsin_file_mtime_seconds{{{SEL}}} * 1000", "{{path}}")],
                        kind="table",
                        width=6,
                        height=4,
                    ),
                ],
            ),
        ],
    )


def pipeline() -> Dashboard:
    """The alerting pipeline: exporter and receiver self-metrics, Alertmanager, Prometheus."""
    return Dashboard(
        uid="tocsin-alerting-pipeline",
        title="tocsin / Alerting pipeline",
        description="Exporter collectors, scrapes, the receiver's webhooks, notifications by "
        "channel, outbox, escalations and dead letters.",
        tags=["pipeline"],
        rows=[
            Row(
                "Targets and collectors",
                [
                    Panel(
                        "Targets up",
                        "1 when Prometheus's last scrape of the target succeeded.",
                        "bool_yes_no",
                        [Target(f"up{{{SEL}}}", "{{job}} {{instance}}")],
                        kind="stat",
                        width=8,
                    ),
                    Panel(
                        "Collector success",
                        "1 when the collector's last run succeeded; 0 means its metrics are "
                        "missing.",
                        "bool_yes_no",
                        [
                            Target(
                                f"tocsin_exporter_collector_success{{{SEL}}}",
                                "{{instance}} {{collector}}",
                            )
                        ],
                        width=8,
                    ),
                    Panel(
                        "Collector duration",
                        "Seconds each collector took in its last run.",
                        "s",
                        [
                            Target(
                                f"tocsin_exporter_collector_duration_seconds{{{SEL}}}",
                                "{{instance}} {{collector}}",
                            )
                        ],
                        width=8,
                    ),
                    Panel(
                        "Scrape duration",
                        "How long Prometheus's scrapes of each target take.",
                        "s",
                        [Target(f"scrape_duration_seconds{{{SEL}}}", "{{job}} {{instance}}")],
                    ),
                    Panel(
                        "Firing alerts",
                        "Alerts firing in Prometheus now, by severity.",
                        "short",
                        [
                            Target(
                                'count by (severity) (ALERTS{alertstate="firing"}) or vector(0)',
                                "{{severity}}",
                            )
                        ],
                    ),
                ],
            ),
            Row(
                "Receiver ingestion",
                [
                    Panel(
                        "Webhooks",
                        "Webhook requests answered per second by HTTP status code.",
                        "reqps",
                        [
                            Target(
                                f"sum by (code) ({rate('tocsin_receiver_webhooks_total')})",
                                "{{code}}",
                            )
                        ],
                    ),
                    Panel(
                        "Alerts received",
                        "Alerts in stored webhooks per second, by status; and duplicates dropped.",
                        "ops",
                        [
                            Target(
                                sum_rate("status", "tocsin_receiver_alerts_received_total"),
                                "{{status}}",
                            ),
                            Target(
                                f"sum({rate('tocsin_receiver_duplicates_total')})",
                                "duplicates",
                            ),
                        ],
                    ),
                    Panel(
                        "Incidents by state",
                        "Incidents the receiver holds, by state.",
                        "short",
                        [
                            Target(
                                f"sum by (state) (tocsin_receiver_incidents{{{SEL}}})", "{{state}}"
                            )
                        ],
                    ),
                    Panel(
                        "Alertmanager webhook failures",
                        "Failed webhook notifications per second as Alertmanager counts them.",
                        "ops",
                        [
                            Target(
                                "sum by (instance) (rate(alertmanager_notifications_failed_total"
                                '{integration="webhook"}[$__rate_interval]))',
                                "{{instance}}",
                            )
                        ],
                    ),
                ],
            ),
            Row(
                "Notifications",
                [
                    Panel(
                        "Notifications by channel",
                        "Delivery attempts per second by channel and outcome "
                        "(delivered, retry, dead_letter).",
                        "ops",
                        [
                            Target(
                                "sum by (channel, outcome) ("
                                + rate("tocsin_receiver_notifications_total")
                                + ")",
                                "{{channel}} {{outcome}}",
                            )
                        ],
                    ),
                    Panel(
                        "Notification duration p99",
                        "99th percentile of the time a channel takes to deliver.",
                        "s",
                        [
                            Target(
                                "histogram_quantile(0.99, sum by (le, channel) ("
                                + rate("tocsin_receiver_notification_duration_seconds_bucket")
                                + "))",
                                "{{channel}}",
                            )
                        ],
                    ),
                    Panel(
                        "Outbox pending",
                        "Notifications stored and not yet delivered.",
                        "short",
                        [Target(f"tocsin_receiver_outbox_pending{{{SEL}}}", "{{instance}}")],
                        width=8,
                    ),
                    Panel(
                        "Outbox oldest age",
                        "Age of the oldest undelivered notification; TocsinOutboxStale above 10m.",
                        "s",
                        [
                            Target(
                                f"tocsin_receiver_outbox_oldest_age_seconds{{{SEL}}}",
                                "{{instance}}",
                            )
                        ],
                        width=8,
                        thresholds=[(600, "red")],
                    ),
                    Panel(
                        "Dead letters",
                        "Notifications given up and waiting for a replay.",
                        "short",
                        [Target(f"tocsin_receiver_dead_letters{{{SEL}}}", "{{instance}}")],
                        width=8,
                        thresholds=[(1, "red")],
                    ),
                    Panel(
                        "Escalations and digests",
                        "Escalation steps fired and digest messages created per second.",
                        "ops",
                        [
                            Target(
                                f"sum({rate('tocsin_receiver_escalations_total')})", "escalations"
                            ),
                            Target(
                                f"sum by (channel) ({rate('tocsin_receiver_digests_total')})",
                                "digests {{channel}}",
                            ),
                        ],
                    ),
                    Panel(
                        "Template errors",
                        "Templates that failed to render and fell back to the built-in one.",
                        "ops",
                        [
                            Target(
                                "sum by (channel, template) ("
                                + rate("tocsin_receiver_template_errors_total")
                                + ")",
                                "{{channel}} {{template}}",
                            )
                        ],
                    ),
                ],
            ),
        ],
    )


DASHBOARDS = {
    "host-overview.json": host,
    "application.json": application,
    "security-overview.json": security,
    "alerting-pipeline.json": pipeline,
}


def generate() -> dict[str, str]:
    """File name → JSON text for every dashboard."""
    return {
        name: json.dumps(render(build()), indent=2, sort_keys=True) + "\n"
        for name, build in DASHBOARDS.items()
    }


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the committed JSON files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if a committed file differs")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    args = parser.parse_args(argv)
    stale = []
    for name, text in generate().items():
        path = args.out / name
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print("out of date (run python -m dashboards.generate): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
