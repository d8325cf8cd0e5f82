"""`tocsin-receiver test-notify --channel NAME`: send a marked test message right now.

Sends directly through the channel (not through a running receiver's outbox) and prints
the provider's answer as JSON; the exit status is 0 only when it was delivered. The
running service offers the same through `POST /api/v1/channels/{name}/test`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

from receiver.api.channels import test_incident
from receiver.channels.base import SendResult, channel_types
from receiver.commands import exit_codes
from receiver.commands.config_file import load_or_report
from receiver.config import Config
from receiver.model.notification import Notification
from receiver.templates import TemplateRenderer

COMMAND = "test-notify"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "test-notify", help="send a test notification through a configured channel"
    )
    p.add_argument("--channel", required=True, help="configured channel name")
    p.add_argument("--config.file", dest="config_file", type=Path, help="YAML configuration")
    return p


async def send_test(config: Config, name: str) -> SendResult:
    """Send one `test` notification through channel `name` and return the outcome."""
    cc = config.channels[name]
    channel = channel_types()[cc.type](
        name, cc.options, TemplateRenderer(config.templates_dir, grafana_url=config.grafana_url)
    )
    correlation_id = uuid.uuid4().hex
    incident = test_incident(name, time.time())
    incident["correlation_id"] = correlation_id
    notification = Notification(
        id=0,
        channel=name,
        kind="test",
        idempotency_key=f"test-notify:{correlation_id}",
        correlation_id=correlation_id,
        incident=incident,
    )
    await channel.start()
    try:
        return await channel.send(notification)
    finally:
        await channel.close()


def run(args: argparse.Namespace) -> int:
    config = load_or_report(args.config_file)
    if config is None:
        return exit_codes.CONFIG_PROBLEM
    if args.channel not in config.channels:
        known = ", ".join(sorted(config.channels))
        print(f"unknown channel {args.channel!r} (configured: {known})", file=sys.stderr)
        return 1
    result = asyncio.run(send_test(config, args.channel))
    report = {
        "channel": args.channel,
        "ok": result.ok,
        "retryable": result.retry,
        "status": result.status,
        "response": result.response,
        "error": result.error,
        "retry_after": result.retry_after,
    }
    print(json.dumps(report, indent=2))
    return 0 if result.ok else 1
