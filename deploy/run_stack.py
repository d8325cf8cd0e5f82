"""Run the local tocsin stack: `make run` (and `make demo` = `--demo`).

Starts the exporter and the receiver on their embedded defaults and, when Debian's
`prometheus` and `prometheus-alertmanager` are installed, Prometheus (with every rule in
rules/) and Alertmanager wired to the receiver. Data lives under ./tocsin-data/stack.
Prints the URLs, then waits; Ctrl-C or SIGTERM stops everything. Without the two binaries
it runs the exporter and receiver alone and says what is missing.

`--demo` fires a test alert through the stack (Alertmanager's POST /api/v2/alerts, or the
receiver's webhook directly when there is no Alertmanager) and waits until the receiver has
an incident for it: the notification appears in the receiver's log output.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEMO_ALERT = "TocsinDemoAlert"


@dataclass
class Service:
    """A child process and the URL that says it is up."""

    name: str
    argv: list[str]
    url: str
    health: str
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None


@dataclass
class Stack:
    """Every child process of this run, stopped together."""

    services: list[Service] = field(default_factory=list)

    def start(self, service: Service, log_dir: Path, inherit_output: bool) -> None:
        """Start one service; its output goes to our terminal or to a log file."""
        out: Any = None
        if not inherit_output:
            service.log = log_dir / f"{service.name}.log"
            out = service.log.open("ab")
        service.proc = subprocess.Popen(
            service.argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT if out else None
        )
        self.services.append(service)

    def wait_healthy(self, service: Service, timeout: float = 30.0) -> None:
        """Poll the health URL until it answers 200; raise if the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert service.proc is not None
            if service.proc.poll() is not None:
                hint = f" (see {service.log})" if service.log else ""
                raise RuntimeError(f"{service.name} exited with {service.proc.returncode}{hint}")
            try:
                with open_url(service.health, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{service.name} did not become healthy at {service.health}")

    def stop(self) -> None:
        """SIGTERM every child, newest first; SIGKILL whatever is still there after 10 s."""
        for service in reversed(self.services):
            if service.proc and service.proc.poll() is None:
                service.proc.terminate()
        for service in reversed(self.services):
            if service.proc is None:
                continue
            try:
                service.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                service.proc.kill()
                service.proc.wait()

    def first_exited(self) -> Service | None:
        """A service that has stopped on its own, if any."""
        return next((s for s in self.services if s.proc and s.proc.poll() is not None), None)


def open_url(target: str | urllib.request.Request, timeout: float) -> Any:
    """urlopen for the http://127.0.0.1 URLs this script builds itself (never user input)."""
    return urllib.request.urlopen(target, timeout=timeout)  # noqa: S310


def find(*names: str) -> str | None:
    """The first of these executables on PATH."""
    return next((path for name in names if (path := shutil.which(name))), None)


def prometheus_config(exporter: str, receiver: str, alertmanager: str | None, interval: str) -> str:
    """prometheus.yml for the local stack: the same jobs as deploy/prometheus/prometheus.yml."""
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(REPO / "rules" / "*.rules.yml")],
        "scrape_configs": [
            {"job_name": "prometheus", "static_configs": [{"targets": ["PROMETHEUS"]}]},
            {"job_name": "tocsin-exporter", "static_configs": [{"targets": [exporter]}]},
            {"job_name": "tocsin-receiver", "static_configs": [{"targets": [receiver]}]},
        ],
    }
    if alertmanager:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
        config["scrape_configs"].append(
            {"job_name": "alertmanager", "static_configs": [{"targets": [alertmanager]}]}
        )
    return json.dumps(config, indent=2)  # JSON is YAML


def alertmanager_config(receiver_url: str, group_wait: str) -> str:
    """alertmanager.yml routing everything to the receiver (no auth: it is on loopback)."""
    config = {
        "route": {
            "receiver": "tocsin",
            "group_by": ["alertname", "instance"],
            "group_wait": group_wait,
            "group_interval": "1m",
            "repeat_interval": "4h",
        },
        "receivers": [
            {
                "name": "tocsin",
                "webhook_configs": [
                    {"url": f"{receiver_url}/webhook/alertmanager", "send_resolved": True}
                ],
            }
        ],
    }
    return json.dumps(config, indent=2)


def demo_alert() -> dict[str, Any]:
    """The test alert `--demo` sends."""
    return {
        "labels": {"alertname": DEMO_ALERT, "severity": "info", "instance": "demo"},
        "annotations": {
            "summary": "tocsin demo: this alert travelled through the stack.",
            "description": "Sent by deploy/run_stack.py --demo.",
            "runbook_url": "https://github.com/tocsin/tocsin/blob/main/README.md#run",
        },
        "startsAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }


def post_json(url: str, body: Any) -> int:
    """POST a JSON body; return the HTTP status."""
    req = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1 URL
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with open_url(req, timeout=10) as resp:
        return int(resp.status)


def fire_demo(receiver_url: str, alertmanager_url: str | None, timeout: float) -> bool:
    """Send the demo alert and wait until the receiver holds an incident for it."""
    alert = demo_alert()
    if alertmanager_url:
        post_json(f"{alertmanager_url}/api/v2/alerts", [alert])
        print(f"demo: posted {DEMO_ALERT} to Alertmanager; waiting for the receiver ...")
    else:
        payload = {
            "version": "4",
            "groupKey": '{}:{alertname="' + DEMO_ALERT + '"}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "tocsin",
            "groupLabels": {"alertname": DEMO_ALERT},
            "commonLabels": alert["labels"],
            "commonAnnotations": alert["annotations"],
            "externalURL": "http://localhost/",
            "alerts": [
                {
                    **alert,
                    "status": "firing",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "",
                    "fingerprint": "0000demo0000demo",
                }
            ],
        }
        post_json(f"{receiver_url}/webhook/alertmanager", payload)
        print(f"demo: posted {DEMO_ALERT} to the receiver's webhook; waiting ...")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open_url(f"{receiver_url}/api/v1/incidents", timeout=5) as resp:
                text = resp.read().decode()
        except (urllib.error.URLError, OSError):
            text = ""
        if DEMO_ALERT in text:
            print(f"demo: the receiver has an incident for {DEMO_ALERT}; its notification went")
            print("demo: to the `log` channel (the receiver's log lines above).")
            return True
        time.sleep(0.5)
    print(f"demo: no incident for {DEMO_ALERT} within {timeout:.0f}s", file=sys.stderr)
    return False


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Run the local tocsin stack.")
    p.add_argument("--demo", action="store_true", help="fire a test alert through the stack")
    p.add_argument("--once", action="store_true", help="exit after start-up (and the demo)")
    p.add_argument("--data-dir", type=Path, default=Path("tocsin-data/stack"))
    p.add_argument("--exporter-port", type=int, default=9877)
    p.add_argument("--receiver-port", type=int, default=9878)
    p.add_argument("--prometheus-port", type=int, default=9090)
    p.add_argument("--alertmanager-port", type=int, default=9093)
    p.add_argument("--no-prometheus", action="store_true", help="exporter and receiver only")
    p.add_argument("--quiet", action="store_true", help="send service output to log files")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the stack, print the URLs, wait for Ctrl-C/SIGTERM, stop everything."""
    args = parse_args(argv)
    data = args.data_dir.resolve()
    data.mkdir(parents=True, exist_ok=True)
    host = "127.0.0.1"
    exporter_addr = f"{host}:{args.exporter_port}"
    receiver_addr = f"{host}:{args.receiver_port}"
    receiver_url = f"http://{receiver_addr}"
    prometheus_bin = None if args.no_prometheus else find("prometheus")
    alertmanager_bin = (
        None if args.no_prometheus else find("prometheus-alertmanager", "alertmanager")
    )

    services = [
        Service(
            "exporter",
            [sys.executable, "-m", "exporter", f"--web.listen-address={exporter_addr}"],
            f"http://{exporter_addr}/metrics",
            f"http://{exporter_addr}/-/healthy",
        ),
        Service(
            "receiver",
            [
                sys.executable, "-m", "receiver", "serve",
                f"--web.listen-address={receiver_addr}",
                f"--storage.path={data / 'receiver'}",
            ],
            receiver_url,
            f"{receiver_url}/-/ready",
        ),
    ]  # fmt: skip
    alertmanager_url = None
    if alertmanager_bin:
        am_addr = f"{host}:{args.alertmanager_port}"
        alertmanager_url = f"http://{am_addr}"
        (data / "alertmanager.yml").write_text(
            alertmanager_config(receiver_url, "1s" if args.demo else "10s")
        )
        services.append(
            Service(
                "alertmanager",
                [
                    alertmanager_bin,
                    f"--config.file={data / 'alertmanager.yml'}",
                    f"--storage.path={data / 'alertmanager'}",
                    f"--web.listen-address={am_addr}",
                    "--cluster.listen-address=",
                ],
                alertmanager_url,
                f"{alertmanager_url}/-/ready",
            )
        )
    if prometheus_bin:
        prom_addr = f"{host}:{args.prometheus_port}"
        am_target = alertmanager_url.removeprefix("http://") if alertmanager_url else None
        config = prometheus_config(exporter_addr, receiver_addr, am_target, "15s")
        (data / "prometheus.yml").write_text(config.replace("PROMETHEUS", prom_addr))
        services.append(
            Service(
                "prometheus",
                [
                    prometheus_bin,
                    f"--config.file={data / 'prometheus.yml'}",
                    f"--storage.tsdb.path={data / 'prometheus'}",
                    f"--web.listen-address={prom_addr}",
                ],
                f"http://{prom_addr}",
                f"http://{prom_addr}/-/ready",
            )
        )

    stack = Stack()
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        for service in services:
            # Prometheus and Alertmanager are chatty; their logs go to files so the
            # exporter's and receiver's lines (and the demo notification) stay readable.
            ours = service.name in {"exporter", "receiver"}
            stack.start(service, data, inherit_output=ours and not args.quiet)
        for service in services:
            stack.wait_healthy(service)
        print("\ntocsin stack is up:")
        for service in services:
            where = f"  (log: {service.log})" if service.log else ""
            print(f"  {service.name:<13} {service.url}{where}")
        if not args.no_prometheus:
            missing = [
                pkg
                for pkg, found in (
                    ("prometheus", prometheus_bin),
                    ("prometheus-alertmanager", alertmanager_bin),
                )
                if not found
            ]
            if missing:
                print(
                    "  not started:  " + ", ".join(missing) + " (not installed; "
                    f"apt-get install {' '.join(missing)} to run the full stack)"
                )
        print(f"  data          {data}")
        sys.stdout.flush()
        if args.demo and not fire_demo(receiver_url, alertmanager_url, 60):
            code = 1
        if args.once:
            return code
        print("Ctrl-C stops everything.")
        sys.stdout.flush()
        while not stopping:
            exited = stack.first_exited()
            if exited is not None:
                print(f"{exited.name} exited unexpectedly; stopping", file=sys.stderr)
                return 1
            time.sleep(0.2)
        return code
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        print("stopped.")


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
