"""`tocsin-receiver unack ID`: unacknowledge an incident (escalation resumes)."""

from __future__ import annotations

import argparse

from receiver.commands.incident_action import add_action_parser, run_action

COMMAND = "unack"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    return add_action_parser(sub, "unack", "unacknowledge an incident (escalation resumes)")


def run(args: argparse.Namespace) -> int:
    return run_action(args, "unack")
