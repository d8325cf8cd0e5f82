"""`tocsin-receiver deadletters [--replay ID]`: list dead letters or replay one."""

from __future__ import annotations

import argparse

from receiver.commands.api_client import add_client_args, print_json, run_call

COMMAND = "deadletters"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser("deadletters", help="list or replay dead letters")
    p.add_argument(
        "--replay", type=int, metavar="ID", help="put this dead letter back in the outbox"
    )
    add_client_args(p)
    return p


def run(args: argparse.Namespace) -> int:
    if args.replay is not None:
        doc = run_call(args, "POST", f"/api/v1/deadletters/{args.replay}/replay")
        if doc is None:
            return 1
        print(f"notification {args.replay} queued for delivery")
        return 0
    doc = run_call(args, "GET", "/api/v1/deadletters")
    if doc is None:
        return 1
    if args.json:
        print_json(doc)
        return 0
    print(f"{'ID':>6}  {'INCIDENT':>8}  {'CHANNEL':<16} {'KIND':<10} {'ATTEMPTS':>8}  LAST ERROR")
    for d in doc["deadletters"]:
        print(
            f"{d['id']:>6}  {d['incident_id'] or '-':>8}  {d['channel']:<16} {d['kind']:<10} "
            f"{d['attempts']:>8}  {(d['last_error'] or '')[:80]}"
        )
    return 0
