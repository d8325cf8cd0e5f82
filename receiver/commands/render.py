"""`tocsin-receiver render --channel NAME`: print exactly what a channel would send.

Renders an Alertmanager payload (or a built-in sample) through the channel's templates
and budget, without contacting the provider. NAME is a configured channel, or a channel
type (email, slack, pagerduty, twilio, discord, teams) to see the built-in templates.
With `action_links` configured the preview carries signed links as sent messages do (for
the sample's or payload's incident id), and a `twilio_inbound` channel its reply line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from receiver.actionlinks.from_config import link_signer, reply_channels
from receiver.channels.base import Channel, channel_types
from receiver.commands import exit_codes
from receiver.commands.config_file import load_or_report
from receiver.config import Config
from receiver.model.digest import digest_entry, digest_snapshot
from receiver.model.notification import Notification
from receiver.model.payload import PayloadError, parse_payload
from receiver.outbox.send import to_notification
from receiver.templates import TemplateRenderer
from receiver.templates.check import KINDS
from receiver.templates.sample import sample_incident
from servicekit.loader import Loader

COMMAND = "render"

# Harmless settings that let a channel type be previewed without a configuration file.
PLACEHOLDER_OPTIONS: dict[str, dict[str, Any]] = {
    "email": {"host": "localhost", "sender": "tocsin@localhost", "to": ["oncall@localhost"]},
    "slack": {"webhook_url": "https://hooks.slack.com/services/PLACEHOLDER"},
    "pagerduty": {"routing_key": "0" * 32},
    "twilio": {
        "account_sid": "AC" + "0" * 32,
        "auth_token": "placeholder",
        "to": ["+15550000000"],
        "from_number": "+15550000001",
    },
    "discord": {"webhook_url": "https://discord.com/api/webhooks/0/placeholder"},
    "teams": {"webhook_url": "https://example.invalid/workflows/placeholder"},
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "render", help="print what a channel would send for a payload (nothing is sent)"
    )
    p.add_argument("--channel", required=True, help="configured channel name, or a channel type")
    p.add_argument("--payload", type=Path, help="Alertmanager webhook payload (JSON file)")
    p.add_argument("--kind", default="firing", choices=KINDS, help="message kind (default firing)")
    p.add_argument("--config.file", dest="config_file", type=Path, help="YAML configuration")
    p.add_argument("--templates", type=Path, help="template directory (overrides templates_dir)")
    return p


def snapshot_from_payload(data: Any) -> dict[str, Any]:
    """The incident snapshot the receiver would store for a payload (validated)."""
    payload = parse_payload(data)
    alerts = sorted(payload.alerts, key=lambda a: (a.status != "firing", a.starts_ts))
    severity = payload.common_labels.get("severity") or next(
        (a.labels["severity"] for a in alerts if "severity" in a.labels), "none"
    )
    return {
        "id": 0,
        "key": f"{payload.receiver}/{payload.group_key}",
        "receiver": payload.receiver,
        "group_key": payload.group_key,
        "state": payload.status,
        "severity": severity,
        "group_labels": payload.group_labels,
        "common_labels": payload.common_labels,
        "common_annotations": payload.common_annotations,
        "external_url": payload.external_url,
        "created_at": alerts[0].starts_at if alerts else None,
        "updated_at": alerts[0].starts_at if alerts else None,
        "resolved_at": None,
        "acked_by": None,
        "acked_at": None,
        "ack_comment": None,
        "truncated_alerts": payload.truncated_alerts,
        "correlation_id": "render",
        "alerts": [
            {
                "fingerprint": a.fingerprint,
                "status": a.status,
                "labels": a.labels,
                "annotations": a.annotations,
                "starts_at": a.starts_at,
                "ends_at": a.ends_at,
                "generator_url": a.generator_url,
            }
            for a in alerts
        ],
    }


def make_channel(name: str, config: Config, templates: TemplateRenderer) -> Channel:
    """The configured channel called `name`, or a placeholder channel of type `name`."""
    types = channel_types()
    if name in config.channels:
        cc = config.channels[name]
        return types[cc.type](name, cc.options, templates)
    if name in PLACEHOLDER_OPTIONS and name in types:
        loader = Loader("<placeholder>")
        options = loader.load(types[name].Config, PLACEHOLDER_OPTIONS[name])
        return types[name](name, options, templates)
    known = sorted({*config.channels, *PLACEHOLDER_OPTIONS})
    raise LookupError(f"unknown channel {name!r} (configured channels and types: {known})")


def preview(channel: Channel, notification: Notification) -> str:
    """The channel's own preview, or the stored notification for channels without one."""
    method = getattr(channel, "preview", None)
    if callable(method):
        return str(method(notification))
    return json.dumps(notification.incident, indent=2, ensure_ascii=False)


def run(args: argparse.Namespace) -> int:
    config = load_or_report(args.config_file)
    if config is None:
        return exit_codes.CONFIG_PROBLEM
    if args.payload is not None:
        try:
            data = json.loads(args.payload.read_text(encoding="utf-8"))
            incident = snapshot_from_payload(data)
        except OSError as exc:
            print(f"{args.payload}: cannot read: {exc.strerror or exc}", file=sys.stderr)
            return 1
        except (PayloadError, ValueError) as exc:
            print(f"{args.payload}: invalid payload: {exc}", file=sys.stderr)
            return 1
    else:
        incident = sample_incident()
    templates = TemplateRenderer(
        args.templates or config.templates_dir,
        link_signer(config),
        reply_channels(config),
        grafana_url=config.grafana_url,
    )
    try:
        channel = make_channel(args.channel, config, templates)
    except LookupError as exc:
        print(str(exc.args[0]), file=sys.stderr)
        return 1
    print(preview(channel, rendered_notification(channel.name, args.kind, incident)))
    return 0


def rendered_notification(channel: str, kind: str, incident: dict[str, Any]) -> Notification:
    """The notification `render` previews, read from an outbox row the way the outbox
    worker reads the rows it sends; a digest is built as the outbox builds one, with the
    incident as its only folded entry, so the preview has the ids and links it would."""
    snapshot = incident
    if kind == "digest":
        snapshot = digest_snapshot([digest_entry(0, "firing", incident, "rate_limit")])
    row = {
        "id": 0,
        "channel": channel,
        "kind": kind,
        "idempotency_key": f"render:{channel}:{kind}",
        "correlation_id": "render",
        "snapshot": json.dumps(snapshot),
        "escalation_step": 1 if kind == "escalation" else None,
        "attempts": 0,
    }
    return to_notification(row)
