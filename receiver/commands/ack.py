"""`tocsin-receiver ack ID`: acknowledge an incident (stops escalation)."""

from __future__ import annotations

import argparse

from receiver.commands.incident_action import add_action_parser, run_action

COMMAND = "ack"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    return add_action_parser(sub, "ack", "acknowledge an incident (stops escalation)")


def run(args: argparse.Namespace) -> int:
    return run_action(args, "ack")
