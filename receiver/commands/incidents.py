"""`tocsin-receiver incidents [ID]`: list (with filters) or show one incident."""

from __future__ import annotations

import argparse
import urllib.parse

from receiver.commands.api_client import add_client_args, print_json, run_call

COMMAND = "incidents"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser("incidents", help="list or show incidents")
    p.add_argument("id", nargs="?", type=int, help="show this incident in full")
    p.add_argument(
        "--state", action="append", default=[], choices=("firing", "acknowledged", "resolved")
    )
    p.add_argument("--severity", action="append", default=[])
    p.add_argument("--match", action="append", default=[], help='label matcher, e.g. team=~"db"')
    p.add_argument("--limit", type=int, default=100)
    add_client_args(p)
    return p


def run(args: argparse.Namespace) -> int:
    if args.id is not None:
        doc = run_call(args, "GET", f"/api/v1/incidents/{args.id}")
        if doc is None:
            return 1
        print_json(doc)
        return 0
    query = [("state", s) for s in args.state] + [("severity", s) for s in args.severity]
    query += [("match", m) for m in args.match] + [("limit", str(args.limit))]
    doc = run_call(args, "GET", "/api/v1/incidents?" + urllib.parse.urlencode(query))
    if doc is None:
        return 1
    if args.json:
        print_json(doc)
        return 0
    print(f"{'ID':>6}  {'STATE':<13} {'SEVERITY':<9} {'CREATED':<27} GROUP")
    for inc in doc["incidents"]:
        group = ",".join(f"{k}={v}" for k, v in sorted(inc["group_labels"].items()))
        print(
            f"{inc['id']:>6}  {inc['state']:<13} {inc['severity']:<9} "
            f"{inc['created_at']:<27} {group}"
        )
    return 0
