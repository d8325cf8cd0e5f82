"""`tocsin-receiver check-config FILE`: print every configuration problem at once."""

from __future__ import annotations

import argparse
from pathlib import Path

from receiver.commands import exit_codes
from receiver.commands.config_file import check_or_report

COMMAND = "check-config"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "check-config", help="validate a configuration file"
    )
    p.add_argument("file", type=Path)
    return p


def run(args: argparse.Namespace) -> int:
    cfg = check_or_report(args.file)
    if cfg is None:
        return exit_codes.CONFIG_PROBLEM
    print(
        f"{args.file}: OK ({len(cfg.channels)} channels, {len(cfg.routes)} routes,"
        f" {len(cfg.escalation_policies)} escalation policies, {len(cfg.auth.tokens)} tokens)"
    )
    return exit_codes.OK
