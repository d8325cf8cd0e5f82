"""Shared by `ack`, `unack` and `resolve`."""

from __future__ import annotations

import argparse

from receiver.commands.api_client import add_client_args, print_json, run_call


def add_action_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
) -> argparse.ArgumentParser:
    """The subcommand `name` taking an incident id, `--comment` and the client options."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
    p.add_argument("id", type=int, help="incident id")
    p.add_argument("--comment", "-m", default="", help="comment stored with the action")
    add_client_args(p)
    return p


def run_action(args: argparse.Namespace, name: str) -> int:
    """POST `/api/v1/incidents/ID/<name>` and print the incident's new state; 1 on error."""
    doc = run_call(args, "POST", f"/api/v1/incidents/{args.id}/{name}", {"comment": args.comment})
    if doc is None:
        return 1
    if args.json:
        print_json(doc)
    else:
        print(f"incident {doc['id']}: {doc['state']}")
    return 0
