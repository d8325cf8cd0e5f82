"""PagerDuty Events API v2 through the maintained `pagerduty` package.

The incident lifecycle maps onto PagerDuty's: firing, escalation and repeat → `trigger`,
an acknowledgement in tocsin → `acknowledge`, resolved → `resolve`, all on one `dedup_key`
derived from the incident's key, so a repeat after a crash collapses into the same
PagerDuty incident. The client is synchronous and runs in a worker thread. Its own
retry loops (it sleeps on 429 and on network errors) are switched off: the outbox
retries, honouring Retry-After, without blocking a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pagerduty
from pagerduty.errors import Error as PagerDutyError
from pagerduty.errors import HttpError as PagerDutyHttpError

from receiver.channels.base import Channel, SendResult, register
from receiver.channels.budget import LIMITS, fit_alerts, json_size
from receiver.channels.http_outcome import classify_status
from receiver.channels.preview import json_preview
from receiver.channels.redact import describe_exception
from receiver.model.notification import Notification
from receiver.templates.clip import clip
from receiver.templates.context import build_context, relevant_alerts
from servicekit.sections import Unavailable
from servicekit.values import Duration, Secret

PD_SEVERITIES = ("critical", "error", "warning", "info")
DEFAULT_SEVERITY_MAP = {
    "critical": "critical",
    "page": "critical",
    "error": "error",
    "high": "error",
    "warning": "warning",
    "warn": "warning",
    "medium": "warning",
    "info": "info",
    "low": "info",
    "none": "info",
}


@dataclass
class PagerDutyConfig:
    """An Events API v2 integration (routing) key and optional overrides."""

    routing_key: Secret
    base_url: str = "https://events.pagerduty.com"
    ca_file: Path | None = None
    severity_map: dict[str, str] = field(default_factory=dict)
    default_severity: str = "warning"
    source: str | None = None
    timeout: Duration = Duration(10)

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        # Each check on its own: one reading a key that failed to parse is skipped (that
        # key's problem is reported already) and the others still run.
        with suppress(Unavailable):
            if len(self.routing_key) != 32:
                problems.append(
                    ("routing_key", "expected a 32-character Events API v2 routing key")
                )
        with suppress(Unavailable):
            if not self.base_url.startswith("https://"):
                problems.append(("base_url", "expected an https:// URL (the client refuses http)"))
        with suppress(Unavailable):
            for key, value in self.severity_map.items():
                if value not in PD_SEVERITIES:
                    problems.append((f"severity_map.{key}", f"expected one of {PD_SEVERITIES}"))
        with suppress(Unavailable):
            if self.default_severity not in PD_SEVERITIES:
                problems.append(("default_severity", f"expected one of {PD_SEVERITIES}"))
        with suppress(Unavailable):
            if self.ca_file is not None and not self.ca_file.is_file():
                problems.append(("ca_file", f"no such file: {self.ca_file}"))
        return problems


class _HandBack(Exception):
    """Carries a 429/5xx answer out of the library so the outbox decides when to retry."""

    def __init__(self, response: Any) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class _EventsClient(pagerduty.EventsApiV2Client):
    """The library client, minus its in-place sleeping retries."""

    max_network_attempts = 0

    def postprocess(self, response: Any) -> None:
        # The library sleeps in place and retries 429 (forever) and 5xx; hand those answers
        # to the outbox instead, which honours Retry-After without holding a thread.
        if response.status_code == 429 or response.status_code >= 500:
            raise _HandBack(response)


def dedup_key(incident: dict[str, Any]) -> str:
    """A stable key per incident (≤ 255 chars): the same across repeats and restarts."""
    key = str(incident.get("key") or incident.get("id") or "")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"tocsin-{digest}"[: LIMITS.pagerduty_dedup_key]


def _links(ctx: dict[str, Any], kind: str) -> list[dict[str, str]]:
    candidates = [
        ("Runbook", ctx["runbook_url"]),
        ("Dashboard", ctx["dashboard_url"]),
        ("Source", ctx["alerts"][0]["generator_url"] if ctx["alerts"] else ""),
        ("Silence in Alertmanager", ctx["silence_url"] if kind != "resolved" else ""),
    ]
    return [
        {"href": href, "text": text}
        for text, href in candidates
        if str(href).startswith(("http://", "https://"))
    ]


def _alert_details(alert: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": alert["status"],
        "labels": alert["labels"],
        "annotations": alert["annotations"],
        "starts_at": alert["starts_at"],
        "ends_at": alert["ends_at"],
    }


@register
class PagerDutyChannel(Channel):
    """Triggers, acknowledges and resolves PagerDuty alerts on the incident's dedup_key."""

    type: ClassVar[str] = "pagerduty"
    Config = PagerDutyConfig
    wants_ack_events: ClassVar[bool] = True
    config: PagerDutyConfig

    def __init__(self, name: str, config: PagerDutyConfig, templates: Any) -> None:
        super().__init__(name, config, templates)
        self._client: _EventsClient | None = None

    async def start(self) -> None:
        if self._client is not None:
            return
        verify: ssl.SSLContext | bool = True
        if self.config.ca_file is not None:
            verify = ssl.create_default_context(cafile=str(self.config.ca_file))
        self._client = _EventsClient(
            self.config.routing_key.reveal(),
            base_url=self.config.base_url.rstrip("/"),
            verify=verify,
        )
        # The library's `timeout` is typed int only by inference from its default (60); it
        # goes straight to httpx, which takes fractional seconds, so a float is correct.
        timeout = float(self.config.timeout)
        self._client.timeout = timeout  # type: ignore[assignment]  # pagerduty infers int from 60

    def severity(self, incident: dict[str, Any]) -> str:
        """PagerDuty's severity for an incident's `severity` label."""
        raw = str(incident.get("severity") or "").lower()
        mapping = {**DEFAULT_SEVERITY_MAP, **self.config.severity_map}
        return mapping.get(raw, self.config.default_severity)

    def trigger_event(
        self, notification: Notification, incident: dict[str, Any], limit: int | None
    ) -> dict[str, Any]:
        """The event body (without routing_key) for a trigger showing `limit` alerts."""
        sub = Notification(
            id=notification.id,
            channel=notification.channel,
            kind=notification.kind if notification.kind != "digest" else "firing",
            idempotency_key=notification.idempotency_key,
            correlation_id=notification.correlation_id,
            incident=incident,
            escalation_step=notification.escalation_step,
        )
        ctx = build_context(sub, self.name, limit, self.templates.grafana_url)
        summary = self.templates.render(
            "pagerduty", sub.kind, "summary.txt", ctx, channel=self.name
        )
        labels = ctx["labels"]
        source = (
            self.config.source
            or labels.get("instance")
            or (ctx["alerts"][0]["labels"].get("instance") if ctx["alerts"] else None)
            or incident.get("receiver")
            or "tocsin"
        )
        details: dict[str, Any] = {
            "incident_id": incident.get("id"),
            "incident_key": incident.get("key"),
            "correlation_id": notification.correlation_id,
            "firing": len(ctx["firing"]),
            "resolved": len(ctx["resolved"]),
            "labels": labels,
            "annotations": ctx["annotations"],
            "alerts": [_alert_details(a) for a in ctx["alerts"]],
        }
        if ctx["more"]:
            details["more"] = f"+{ctx['more']} more alerts not shown"
        if notification.escalation_step is not None:
            details["escalation_step"] = notification.escalation_step
        payload: dict[str, Any] = {
            "summary": clip(summary or ctx["alertname"] or "alert", LIMITS.pagerduty_summary),
            "source": clip(str(source), 255),
            "severity": "info" if notification.kind == "test" else self.severity(incident),
            "custom_details": details,
        }
        if ctx["alertname"]:
            payload["class"] = ctx["alertname"]
        if labels.get("job"):
            payload["component"] = str(labels["job"])
        if ctx["alerts"] and ctx["alerts"][0]["starts_at"]:
            payload["timestamp"] = ctx["alerts"][0]["starts_at"]
        event: dict[str, Any] = {"payload": payload, "client": "tocsin"}
        if ctx["external_url"].startswith(("http://", "https://")):
            event["client_url"] = ctx["external_url"]
        links = _links(ctx, sub.kind)
        if links:
            event["links"] = links
        return event

    def fitted_trigger(
        self, notification: Notification, incident: dict[str, Any]
    ) -> dict[str, Any]:
        """The trigger with as many alerts in custom_details as fit in 512 KB."""
        sub_kind = notification.kind if notification.kind != "digest" else "firing"
        total = len(relevant_alerts(sub_kind, list(incident.get("alerts") or [])))
        # Leave room for routing_key, event_action and dedup_key around the payload.
        room = LIMITS.pagerduty_payload_bytes - 1024
        event = fit_alerts(
            lambda n: self.trigger_event(notification, incident, n),
            total,
            lambda e: json_size(e) <= room,
        )
        if json_size(event) > room:
            event["payload"]["custom_details"]["alerts"] = []
            event["payload"]["custom_details"]["annotations"] = {}
        return event

    def plan(self, notification: Notification) -> list[tuple[str, str, dict[str, Any]]]:
        """The (action, dedup_key, properties) events a notification turns into."""
        if notification.kind == "digest":
            return [self._plan_one(notification, i) for i in notification.digest]
        if notification.kind == "test":
            key = f"tocsin-test-{self.name}-{notification.id}"[: LIMITS.pagerduty_dedup_key]
            trigger = self.fitted_trigger(notification, notification.incident)
            return [("trigger", key, trigger), ("resolve", key, {})]
        return [self._plan_one(notification, notification.incident)]

    def _plan_one(
        self, notification: Notification, incident: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        key = dedup_key(incident)
        if notification.kind == "resolved" or (
            notification.kind == "digest" and incident.get("state") == "resolved"
        ):
            return ("resolve", key, {})
        if notification.kind == "acknowledged":
            return ("acknowledge", key, {})
        return ("trigger", key, self.fitted_trigger(notification, incident))

    def preview(self, notification: Notification) -> str:
        """The events `send` would enqueue (routing key redacted), for `render`."""
        events = [
            {"routing_key": "<redacted>", "event_action": action, "dedup_key": key, **props}
            for action, key, props in self.plan(notification)
        ]
        return json_preview(events)

    async def deliver(self, notification: Notification) -> SendResult:
        await self.start()
        keys: list[str] = []
        for action, key, properties in self.plan(notification):
            result = await asyncio.to_thread(self._send_event, action, key, properties)
            if not result.ok:
                return result
            keys.append(f"{action}:{result.response}")
        return SendResult.delivered(status="202", response=" ".join(keys))

    def _send_event(self, action: str, key: str, properties: dict[str, Any]) -> SendResult:
        assert self._client is not None
        secrets = self.secrets()
        try:
            returned = self._client.send_event(action, dedup_key=key, **properties)
        except _HandBack as exc:
            response = exc.response
            return classify_status(
                int(response.status_code), response.text, response.headers, "pagerduty"
            )
        except PagerDutyHttpError as exc:
            response = exc.response
            if response is None:
                return SendResult.retryable(f"pagerduty: {describe_exception(exc, secrets)}")
            return classify_status(
                int(response.status_code), response.text, response.headers, "pagerduty"
            )
        except PagerDutyError as exc:
            return SendResult.retryable(f"pagerduty: {describe_exception(exc, secrets)}")
        except (OSError, ValueError) as exc:
            return SendResult.retryable(f"pagerduty: {describe_exception(exc, secrets)}")
        return SendResult.delivered(status="202", response=str(returned))

    async def close(self) -> None:
        if self._client is not None:
            await asyncio.to_thread(self._client.close)
        self._client = None
