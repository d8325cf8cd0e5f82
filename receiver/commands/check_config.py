"""`tocsin-receiver check-config FILE`: print every configuration problem at once."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from receiver.commands.config_file import load_config
from receiver.templates.check import check_templates
from servicekit.problems import ConfigError


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
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return 1
    template_problems = check_templates(cfg)
    if template_problems:
        for problem in template_problems:
            print(problem, file=sys.stderr)
        print(f"{len(template_problems)} problem(s) found", file=sys.stderr)
        return 1
    print(
        f"{args.file}: OK ({len(cfg.channels)} channels, {len(cfg.routes)} routes,"
        f" {len(cfg.escalation_policies)} escalation policies, {len(cfg.auth.tokens)} tokens)"
    )
    return 0
