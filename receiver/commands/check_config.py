"""`tocsin-receiver check-config FILE`: print every configuration problem at once."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from receiver.commands.config_file import load_config, print_problems
from receiver.templates.check import check_templates
from servicekit.problems import ConfigError, Problem

COMMAND = "check-config"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "check-config", help="validate a configuration file"
    )
    p.add_argument("file", type=Path)
    return p


def run(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.file)
    except ConfigError as exc:
        return _failed(exc.problems)
    template_problems = check_templates(cfg)
    if template_problems:
        return _failed(template_problems)
    print(
        f"{args.file}: OK ({len(cfg.channels)} channels, {len(cfg.routes)} routes,"
        f" {len(cfg.escalation_policies)} escalation policies, {len(cfg.auth.tokens)} tokens)"
    )
    return 0


def _failed(problems: list[Problem]) -> int:
    print_problems(problems)
    print(f"{len(problems)} problem(s) found", file=sys.stderr)
    return 1
