"""`serve` flags for the incidents page, named as Alertmanager names them: they override
the config file's `web.external_url` and `web.route_prefix`."""

from __future__ import annotations

import argparse
import dataclasses
from urllib.parse import urlsplit

from receiver.config import Config


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add `--web.external-url` and `--web.route-prefix` to the `serve` parser."""
    p.add_argument(
        "--web.external-url",
        dest="web_external_url",
        default=None,
        metavar="URL",
        help="the URL people reach the receiver under (behind a proxy); its path is the"
        " page's default route prefix (overrides web.external_url)",
    )
    p.add_argument(
        "--web.route-prefix",
        dest="web_route_prefix",
        default=None,
        metavar="PATH",
        help="path prefix of the incidents page (default: the external URL's path, else /)",
    )


def apply(config: Config, args: argparse.Namespace) -> Config:
    """`config` with the flags given on the command line put over its `web` section."""
    web = config.web
    if args.web_external_url is not None:
        web = dataclasses.replace(web, external_url=args.web_external_url)
    if args.web_route_prefix is not None:
        web = dataclasses.replace(web, route_prefix=args.web_route_prefix)
    return dataclasses.replace(config, web=web)


def route_prefix(external_url: str, route_prefix: str) -> str:
    """The page's prefix as `/path` without a trailing slash ("" for the root)."""
    raw = route_prefix or urlsplit(external_url).path
    parts = [p for p in raw.split("/") if p]
    return "/" + "/".join(parts) if parts else ""
