"""`tocsin-receiver resolve ID`: resolve an incident by hand."""

from __future__ import annotations

import argparse

from receiver.commands.incident_action import add_action_parser, run_action

COMMAND = "resolve"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    return add_action_parser(sub, "resolve", "resolve an incident by hand")


def run(args: argparse.Namespace) -> int:
    return run_action(args, "resolve")
