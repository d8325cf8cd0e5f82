"""Parse and validate Alertmanager's webhook payload (version "4") into dataclasses.

Every error names the offending field (`alerts[3].labels.severity`) so the 400 answer
tells the sender exactly what is wrong.

Validation is strict enough that anything accepted can be stored and processed: a
webhook answered 2xx that later fails processing would lose its alerts (Alertmanager
does not resend it). So integers must fit SQLite's signed 64 bits, strings must be
encodable UTF-8 without NUL (a lone surrogate cannot be encoded, and NUL breaks mail
headers and C-string APIs), and label and annotation sets have size caps. Rejecting
beats sanitising: changed labels would change the alert's identity.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

_TS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})$"
)
# Alertmanager writes Go's zero time for "no end".
_ZERO_YEAR = 1
INT64_MAX = (1 << 63) - 1
# Caps in characters: generous for real alerts, small enough that a webhook is cheap to
# store, process and render.
STRING_MAX = 64 * 1024
LABELS_MAX = 64 * 1024
ANNOTATIONS_MAX = 256 * 1024
# RFC 3339 with nanoseconds and an offset is 35 characters; anything much longer is not a
# timestamp, and checking the length first keeps a megabyte "timestamp" out of the regex
# and out of the parse cache.
TIMESTAMP_MAX = 64


class PayloadError(ValueError):
    """A validation failure naming the field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Alert:
    """One alert of a webhook payload, validated: each timestamp as sent (`*_at`) and in
    unix seconds (`*_ts`); no end (None) when `endsAt` is absent or the zero time, and
    the fingerprint computed from the labels when none was sent."""

    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str
    starts_ts: float
    ends_at: str | None
    ends_ts: float | None
    generator_url: str
    fingerprint: str


@dataclass(frozen=True)
class Payload:
    """An Alertmanager webhook payload (version "4"), validated."""

    version: str
    receiver: str
    status: str
    group_key: str
    alerts: list[Alert]
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    external_url: str
    truncated_alerts: int


def parse_timestamp(value: Any, field: str) -> tuple[str, float | None]:
    """RFC 3339 (nanoseconds allowed) → (original text, unix seconds or None for zero)."""
    if not isinstance(value, str):
        raise PayloadError(field, f"expected an RFC 3339 timestamp string, got {_kind(value)}")
    if len(value) > TIMESTAMP_MAX:
        raise PayloadError(
            field, f"{len(value)} characters, over the {TIMESTAMP_MAX}-character timestamp limit"
        )
    try:
        return value, _unix_seconds(value)
    except ValueError as exc:
        raise PayloadError(field, str(exc)) from None


@lru_cache(maxsize=4096)
def _unix_seconds(value: str) -> float | None:
    # Cached: an alert's startsAt repeats in every webhook of its group, and Go's zero
    # time stands for every missing endsAt, so most timestamps have been seen before.
    # Keys are at most TIMESTAMP_MAX characters, so the cache holds at most
    # 4096 x 64 characters (well under a megabyte), whatever senders write.
    m = _TS_RE.match(value)
    if not m:
        raise ValueError(f"expected an RFC 3339 timestamp, got {value[:64]!r}")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    if int(year) == _ZERO_YEAR:
        return None
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        dt = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, UTC
        )
    except ValueError as exc:
        raise ValueError(f"invalid timestamp {value[:64]!r}: {exc}") from None
    offset = 0
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return dt.timestamp() - offset


def parse_payload(data: Any) -> Payload:
    """Validate decoded JSON; raises PayloadError naming the first bad field."""
    if not isinstance(data, dict):
        raise PayloadError("$", f"expected a JSON object, got {_kind(data)}")
    version = data.get("version")
    if version is None:
        raise PayloadError("version", "required field is missing")
    if version != "4":
        raise PayloadError("version", f'unsupported version {version!r} (expected "4")')
    status = _status(data.get("status"), "status")
    receiver = _str(data, "receiver", required=True)
    group_key = _str(data, "groupKey", required=True)
    raw_alerts = data.get("alerts")
    if raw_alerts is None:
        raise PayloadError("alerts", "required field is missing")
    if not isinstance(raw_alerts, list):
        raise PayloadError("alerts", f"expected a list, got {_kind(raw_alerts)}")
    alerts = [_alert(a, f"alerts[{i}]") for i, a in enumerate(raw_alerts)]
    truncated = data.get("truncatedAlerts", 0)
    if truncated is None:
        truncated = 0
    if isinstance(truncated, bool) or not isinstance(truncated, int) or truncated < 0:
        raise PayloadError(
            "truncatedAlerts", f"expected a non-negative integer, got {_kind(truncated)}"
        )
    if truncated > INT64_MAX:
        raise PayloadError("truncatedAlerts", f"expected an integer up to {INT64_MAX}")
    return Payload(
        version=version,
        receiver=receiver,
        status=status,
        group_key=group_key,
        alerts=alerts,
        group_labels=_labels(data.get("groupLabels"), "groupLabels", LABELS_MAX),
        common_labels=_labels(data.get("commonLabels"), "commonLabels", LABELS_MAX),
        common_annotations=_labels(
            data.get("commonAnnotations"), "commonAnnotations", ANNOTATIONS_MAX
        ),
        external_url=_str(data, "externalURL"),
        truncated_alerts=truncated,
    )


def _alert(raw: Any, field: str) -> Alert:
    if not isinstance(raw, dict):
        raise PayloadError(field, f"expected an object, got {_kind(raw)}")
    status = _status(raw.get("status"), f"{field}.status")
    if "labels" not in raw:
        raise PayloadError(f"{field}.labels", "required field is missing")
    labels = _labels(raw.get("labels"), f"{field}.labels", LABELS_MAX)
    annotations = _labels(raw.get("annotations"), f"{field}.annotations", ANNOTATIONS_MAX)
    if "startsAt" not in raw:
        raise PayloadError(f"{field}.startsAt", "required field is missing")
    starts_at, starts_ts = parse_timestamp(raw["startsAt"], f"{field}.startsAt")
    ends_at: str | None = None
    ends_ts: float | None = None
    if raw.get("endsAt") is not None:
        ends_at, ends_ts = parse_timestamp(raw["endsAt"], f"{field}.endsAt")
        if ends_ts is None:
            ends_at = None
        elif starts_ts is not None and ends_ts < starts_ts:
            # Alertmanager's clocks can put endsAt a little before startsAt; an alert
            # cannot end before it starts, so it ended when it started.
            ends_at, ends_ts = starts_at, starts_ts
    fingerprint = _str(raw, "fingerprint", prefix=field) or _fingerprint(labels)
    return Alert(
        status=status,
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        starts_ts=starts_ts if starts_ts is not None else 0.0,
        ends_at=ends_at,
        ends_ts=ends_ts,
        generator_url=_str(raw, "generatorURL", prefix=field),
        fingerprint=fingerprint,
    )


def _fingerprint(labels: dict[str, str]) -> str:
    text = "\xff".join(f"{k}\xff{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _status(value: Any, field: str) -> str:
    if value is None:
        raise PayloadError(field, "required field is missing")
    if value not in ("firing", "resolved"):
        raise PayloadError(field, f'expected "firing" or "resolved", got {_short(value)}')
    return str(value)


def _str(data: dict[str, Any], name: str, required: bool = False, prefix: str = "") -> str:
    field = f"{prefix}.{name}" if prefix else name
    value = data.get(name)
    if value is None:
        if required:
            raise PayloadError(field, "required field is missing")
        return ""
    if not isinstance(value, str):
        raise PayloadError(field, f"expected a string, got {_kind(value)}")
    if len(value) > STRING_MAX:
        raise PayloadError(field, f"longer than the {STRING_MAX}-character limit")
    return _text(value, field)


def _text(value: str, field: str) -> str:
    """`value` if it is storable text: encodable as UTF-8 and free of NUL."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise PayloadError(field, "contains a lone UTF-16 surrogate") from None
    if "\x00" in value:
        raise PayloadError(field, "contains a NUL character")
    return value


def _labels(value: Any, field: str, cap: int) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(field, f"expected an object of strings, got {_kind(value)}")
    size = 0
    for k, v in value.items():
        _text(k, field)
        if not isinstance(v, str):
            raise PayloadError(f"{field}.{k}", f"expected a string, got {_kind(v)}")
        _text(v, f"{field}.{k}")
        size += len(k) + len(v)
    if size > cap:
        raise PayloadError(
            field, f"names and values total {size} characters, over the {cap}-character limit"
        )
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _short(value: Any) -> str:
    return repr(value)[:64] if isinstance(value, str) else _kind(value)
