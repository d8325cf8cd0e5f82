"""`{% include %}` stays inside templates_dir: a symbolic link out of it is refused with a
clear error (check-config, and `serve` refuses to start on it); a link planted while the
receiver runs makes it fall back to the built-in template, so the linked file's content
never reaches a message; a link that stays inside still works."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import aiohttp
import pytest

from tests.integration.receiver_harness import (
    ReceiverProcess,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
    write_config,
)
from tests.procs import free_port, run_module
from tests.sinks.slack import SlackSink

pytestmark = pytest.mark.integration
OUTSIDE = "CONTENT-OF-A-FILE-OUTSIDE-TEMPLATES-DIR"
INSIDE = "CONTENT-OF-A-PARTIAL-LINKED-INSIDE"


def _templates(tmp: Path) -> Path:
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(OUTSIDE)
    templates = tmp / "templates"
    (templates / "slack").mkdir(parents=True)
    (templates / "common").mkdir()
    (templates / "common" / "_real.txt").write_text(INSIDE)
    (templates / "common" / "leak.txt").symlink_to(outside / "secret.txt")
    (templates / "common" / "_inside.txt").symlink_to(templates / "common" / "_real.txt")
    (templates / "slack" / "default.text.txt").write_text('{% include "common/leak.txt" %}')
    (templates / "slack" / "default.footer.txt").write_text('{% include "common/_inside.txt" %}')
    return templates


def test_check_config_reports_an_include_linking_out(tmp_path: Path) -> None:
    templates = _templates(tmp_path)
    config = write_config(
        tmp_path / "receiver.yml",
        {
            "templates_dir": str(templates),
            "channels": [
                {"name": "s", "type": "slack", "webhook_url": "https://hooks.example/services/x"}
            ],
        },
    )
    out = run_module("receiver", "check-config", str(config))
    assert out.returncode == 3, out
    assert "common/leak.txt" in out.stderr
    assert "resolves outside templates_dir" in out.stderr
    assert "default.footer.txt" not in out.stderr  # the link inside is fine
    assert OUTSIDE not in out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    served = run_module(
        "receiver",
        "serve",
        f"--config.file={config}",
        f"--web.listen-address=127.0.0.1:{free_port()}",
    )
    assert served.returncode == 3, served
    assert "resolves outside templates_dir" in served.stderr


async def test_serve_falls_back_to_the_builtin_and_never_sends_the_linked_file(
    tmp_path: Path,
) -> None:
    templates = _templates(tmp_path)
    # Harmless at start-up (so serve's checks pass); swapped for the link once it runs.
    leak = templates / "common" / "leak.txt"
    leak.unlink()
    leak.write_text("harmless {{ 1 }}")
    async with SlackSink() as sink:
        cfg = {
            "templates_dir": str(templates),
            "channels": [
                {"name": "s", "type": "slack", "webhook_url": f"{sink.url}/services/T/B/hooksecret"}
            ],
            "default_route": {"channels": ["s"]},
            "auth": {
                "tokens": [
                    {
                        "name": "am",
                        "roles": ["ingest"],
                        "sha256": hashlib.sha256(b"ingest-tok").hexdigest(),
                    }
                ]
            },
        }
        receiver = await ReceiverProcess(tmp_path, cfg).start()
        leak.unlink()
        leak.symlink_to(tmp_path / "outside" / "secret.txt")
        try:
            async with aiohttp.ClientSession() as s:
                status, _ = await post_webhook(
                    s,
                    receiver.url,
                    am_payload("conf", [am_alert("c1")]),
                    {"Authorization": "Bearer ingest-tok"},
                )
            assert status == 200
            await wait_for(lambda: len(sink.requests) == 1, 30, what="the slack message")
        finally:
            receiver.stop()
        sent = json.dumps(sink.requests[0].json)
    assert OUTSIDE not in sent
    assert "alert c1" in sent  # the built-in text template
    assert INSIDE in sent  # the footer's include of a link inside the directory
    log = receiver.log()
    assert OUTSIDE not in log
    failures = [json.loads(line) for line in log.splitlines() if "template_render_failed" in line]
    assert failures, log
    assert "resolves outside templates_dir" in failures[0]["error"]
