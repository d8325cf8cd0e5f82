"""Fit messages into provider limits by showing fewer whole alerts, never by cutting words.

A channel describes its message as a function of how many alerts it shows (`build(n)`);
`fit_alerts` finds the largest n whose message fits, and the template says "+N more" for
the rest. Single fields that are too long on their own (one alert with a 10,000-character
description) are shortened with `receiver.templates.clip`, which stops at a word boundary.
Both together guarantee a limit is never exceeded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from receiver.channels.base import Channel
from receiver.model.notification import Notification
from receiver.templates.context import relevant_count

T = TypeVar("T")
Message = dict[str, Any]


@dataclass(frozen=True)
class Limits:
    """Documented provider limits, in characters unless the name says bytes."""

    slack_section_text: int = 3000
    slack_header_text: int = 150
    slack_blocks: int = 50
    slack_attachment_fallback: int = 3000
    discord_content: int = 2000
    discord_embed_title: int = 256
    discord_embed_description: int = 4096
    discord_embed_total: int = 6000
    discord_embeds: int = 10
    discord_fields: int = 25
    discord_field_name: int = 256
    discord_field_value: int = 1024
    discord_footer: int = 2048
    sms_body: int = 1600
    pagerduty_summary: int = 1024
    pagerduty_dedup_key: int = 255
    pagerduty_payload_bytes: int = 512 * 1024
    teams_card_bytes: int = 28 * 1024
    email_subject: int = 255


LIMITS = Limits()


def fit_alerts(build: Callable[[int], T], total: int, fits: Callable[[T], bool]) -> T:
    """The message showing the most alerts (at most `total`) that still fits.

    `build(n)` renders the message with the first n alerts (and "+N more" for the rest);
    sizes grow with n, so a binary search needs only about log2(total) renders. At least
    one alert is shown when there is one, even if `build` has to clip it to fit.
    """
    best = build(total)
    if fits(best) or total <= 1:
        return best
    lo, hi = 1, total - 1
    found: T | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = build(mid)
        if fits(candidate):
            found, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return found if found is not None else build(1)


def message_fitter(
    build: Callable[[Channel, Notification, int | None], Message],
    fits: Callable[[Message], bool],
    private: str | None = None,
) -> Callable[[Channel, Notification], Message]:
    """A channel's `fitted_message(channel, notification)` from its `build_message`.

    The fitted message shows as many of the notification's relevant alerts as `fits`
    allows. `private` names a bookkeeping key `build` adds only for `fits` to read (never
    sent); it is removed from the message returned.
    """

    def fitted_message(channel: Channel, notification: Notification) -> Message:
        message = fit_alerts(
            lambda n: build(channel, notification, n), relevant_count(notification), fits
        )
        if private is not None:
            message.pop(private, None)
        return message

    return fitted_message


def json_size(value: Any) -> int:
    """Bytes of `value` serialised as compact UTF-8 JSON (how providers count payloads)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
