"""A small blocking client for the receiver's API, shared by the CLI wrappers."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:9878"


def add_client_args(p: argparse.ArgumentParser) -> None:
    """--url, --token, --token-file (also TOCSIN_URL / TOCSIN_TOKEN)."""
    p.add_argument(
        "--url",
        default=os.environ.get("TOCSIN_URL", DEFAULT_URL),
        help=f"receiver base URL (default {DEFAULT_URL})",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--token", help="API bearer token (prefer --token-file or TOCSIN_TOKEN)")
    g.add_argument("--token-file", type=Path, help="file holding the API bearer token")
    p.add_argument("--json", action="store_true", help="print the raw JSON answer")


class ApiError(Exception):
    """The API call failed: the server's error (with its HTTP status) or why it was not
    reached; the message is what the command prints."""


def _token(args: argparse.Namespace) -> str | None:
    if args.token_file is not None:
        try:
            return str(args.token_file.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ApiError(f"cannot read token file {args.token_file}: {exc.strerror}") from None
    return args.token or os.environ.get("TOCSIN_TOKEN")


def call(args: argparse.Namespace, method: str, path: str, body: Any = None) -> Any:
    """Call the API; raises ApiError with the server's JSON error message."""
    url = args.url.rstrip("/") + path
    if not url.startswith(("http://", "https://")):
        raise ApiError(f"--url must be http:// or https://, got {args.url!r}")
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    token = _token(args)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            message = exc.reason
        raise ApiError(f"HTTP {exc.code}: {message}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ApiError(f"cannot reach {args.url}: {getattr(exc, 'reason', exc)}") from None


def run_call(args: argparse.Namespace, method: str, path: str, body: Any = None) -> Any | None:
    """`call`, printing the error and returning None on failure."""
    try:
        return call(args, method, path, body)
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def print_json(doc: Any) -> None:
    """Print an API answer as indented JSON with sorted keys (the commands' `--json`)."""
    print(json.dumps(doc, indent=2, sort_keys=True))
