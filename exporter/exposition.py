"""Rendering metric families (Prometheus text 0.0.4, OpenMetrics 1.0.0, gzip) and choosing one.

The renderers produce exactly the bytes prometheus_client's `generate_latest` functions
produce for the same families (the tests hold them to that, byte for byte), at a fraction
of the cost: name escaping is memoised, label values are escaped with three C-level
replaces, and floats are formatted without prometheus_client's per-call overheads. Our own
`Family` objects skip Sample objects altogether: a label set is rendered once per distinct
(names, values) pair, and a frozen family once per format.

Header parsing is memoised too: scrapers send the same Accept and Accept-Encoding on every
request, so the hot path does a dictionary lookup instead of parsing.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Exemplar, Sample, Timestamp

from exporter.families import Family

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
_OM_EOF = b"# EOF\n"

# prometheus_client's legacy-name patterns, `$` and all (it accepts one trailing newline).
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_RESERVED_LABEL_NAME = re.compile(r"^__.*$")
_INF = float("inf")
# Samples the text format moves out of their family into a gauge family of their own.
_TEXT_SPLIT_SUFFIXES = ("_created", "_gsum", "_gcount")
# The text format's names for OpenMetrics types it lacks.
_TEXT_TYPES = {
    "info": "gauge",
    "stateset": "gauge",
    "gaugehistogram": "histogram",
    "unknown": "untyped",
}


def go_float(value: float) -> str:
    """A sample value as prometheus_client's `floatToGoString` writes it."""
    d = value if type(value) is float else float(value)
    if d >= 1e6:
        # Big values (bytes, counters) take the slow exponent path; many repeat from
        # scrape to scrape (sizes, totals), so their text is kept, in a bounded table.
        text = _BIG.get(d)
        if text is None:
            text = _big_go_float(d)
            if len(_BIG) >= _BIG_MAX:
                _BIG.clear()
            _BIG[d] = text
        return text
    s = repr(d)
    if s[-1] == "n":
        return "NaN"
    if s[-1] == "f":
        return "-Inf"
    return s


_BIG: dict[float, str] = {}
_BIG_MAX = 2048


def _big_go_float(d: float) -> str:
    if d < 1e16 and d.is_integer():
        # Whole numbers (bytes, counts): the digits straight from C, no repr to take apart.
        digits = f"{d:.0f}"
        exponent = len(digits) - 1
        mantissa = digits.rstrip("0")
        if len(mantissa) == 1:
            return f"{mantissa}e+{exponent:02d}"
        return f"{mantissa[0]}.{mantissa[1:]}e+{exponent:02d}"
    if d == _INF:
        return "+Inf"
    s = repr(d)
    dot = s.find(".")
    # Go switches to exponents sooner than Python (for positive values only).
    if dot > 6:
        mantissa = f"{s[0]}.{s[1:dot]}{s[dot + 1 :]}".rstrip("0.")
        return f"{mantissa}e+{dot - 1:02d}"
    return s


def _underscored(name: str, colon: bool) -> str:
    """Every character outside the legacy name alphabet replaced with `_`."""
    return "".join(
        c
        if ("a" <= c <= "z" or "A" <= c <= "Z" or c == "_" or ("0" <= c <= "9" and i > 0))
        or (colon and c == ":")
        else "_"
        for i, c in enumerate(name)
    )


@lru_cache(maxsize=4096)
def _metric_name(name: str) -> str:
    if not name or _METRIC_NAME.match(name):
        return name
    return _underscored(name, colon=True)


@lru_cache(maxsize=4096)
def _om_sample_name(name: str) -> str:
    # prometheus_client escapes OpenMetrics sample names with the label-name alphabet.
    return _underscored(name, colon=False)


@lru_cache(maxsize=4096)
def _label_name(name: str) -> str:
    if not name or (_LABEL_NAME.match(name) and not _RESERVED_LABEL_NAME.match(name)):
        return name
    return _underscored(name, colon=False)


def _escape(value: str) -> str:
    """A label value or OpenMetrics HELP text with backslash, newline and quote escaped."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


# Label pairs repeat from scrape to scrape (cpu, mode, device, ...): each is escaped once.
@lru_cache(maxsize=16384)
def _pair(name: str, value: str) -> str:
    return f'{_label_name(name)}="{_escape(value)}"'


def _labels(labels: dict[str, str]) -> str:
    """`{name="value",...}` sorted by name, or nothing for a sample without labels."""
    if not labels:
        return ""
    if len(labels) == 1:
        for k, v in labels.items():
            return "{" + _pair(k, v) + "}"
    return "{" + ",".join([_pair(k, v) for k, v in sorted(labels.items())]) + "}"


# A family's label names and one sample's values, as `{name="value",...}` sorted by name.
@lru_cache(maxsize=16384)
def _label_set(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    if not names:
        return ""
    return "{" + ",".join([_pair(k, v) for k, v in sorted(zip(names, values, strict=True))]) + "}"


@lru_cache(maxsize=4096)
def _family_prefix(family: tuple[str, str, str, str, str], openmetrics: bool) -> tuple[str, str]:
    """(HELP/TYPE/UNIT lines, escaped sample name) of a Family's (name, type, help, unit,
    sample name): one cache lookup per family."""
    name, mtype, documentation, unit, sample_name = family
    if openmetrics:
        return _om_header(name, mtype, documentation, unit), _om_sample_name(sample_name)
    return _text_header(name, mtype, documentation)[0], _metric_name(sample_name)


def _family(family: Family, openmetrics: bool) -> str:
    """One of our own families, rendered straight from its label values and floats."""
    if family.rendered is not None:
        cached = family.rendered.get(openmetrics)
        if cached is not None:
            return cached
    header, name = _family_prefix(family.key, openmetrics)
    names = family.label_names
    values = family.values
    if not names:
        lines = [f"{name} {go_float(value)}\n" for _, value in values]
    else:
        lines = [
            f"{name}{_label_set(names, labels)} {go_float(value)}\n" for labels, value in values
        ]
    text = header + "".join(lines)
    if family.rendered is not None:
        family.rendered[openmetrics] = text
    return text


def _text_timestamp(timestamp: float | Timestamp) -> str:
    """A sample's timestamp in the text format: whole milliseconds."""
    return f" {int(float(timestamp) * 1000):d}"


def _text_help(name: str, documentation: str) -> str:
    doc = documentation.replace("\\", r"\\").replace("\n", r"\n")
    return f"# HELP {name} {doc}\n"


# Families are rebuilt on every collection, but their names, types and help are not.
@lru_cache(maxsize=4096)
def _text_header(name: str, mtype: str, documentation: str) -> tuple[str, dict[str, str]]:
    """HELP and TYPE lines, and the sample names moved to families of their own."""
    shown = name
    if mtype == "counter":
        shown += "_total"
    elif mtype == "info":
        shown += "_info"
    shown = _metric_name(shown)
    header = _text_help(shown, documentation) + f"# TYPE {shown} {_TEXT_TYPES.get(mtype, mtype)}\n"
    return header, {name + suffix: suffix for suffix in _TEXT_SPLIT_SUFFIXES}


@lru_cache(maxsize=4096)
def _om_header(name: str, mtype: str, documentation: str, unit: str) -> str:
    """HELP, TYPE and (when set) UNIT lines."""
    shown = _metric_name(name)
    header = f"# HELP {shown} {_escape(documentation)}\n# TYPE {shown} {mtype}\n"
    return header + f"# UNIT {shown} {unit}\n" if unit else header


def render_text(families: Sequence[Metric]) -> bytes:
    """Prometheus text format 0.0.4; blocks for different families concatenate validly."""
    out: list[str] = []
    append = out.append
    for metric in families:
        if type(metric) is Family:
            append(_family(metric, False))
            continue
        base = metric.name
        header, split_names = _text_header(base, metric.type, metric.documentation)
        append(header)
        split: dict[str, list[str]] = {}
        for s in metric.samples:
            ts = s.timestamp
            line = (
                f"{_metric_name(s.name)}{_labels(s.labels)} {go_float(s.value)}"
                f"{'' if ts is None else _text_timestamp(ts)}\n"
            )
            suffix = split_names.get(s.name)
            if suffix is None:
                append(line)
            else:
                split.setdefault(suffix, []).append(line)
        for suffix, lines in sorted(split.items()):
            shown = _metric_name(base + suffix)
            append(_text_help(shown, metric.documentation))
            append(f"# TYPE {shown} gauge\n")
            out.extend(lines)
    return "".join(out).encode("utf-8")


def _exemplar(metric: Metric, s: Sample, exemplar: Exemplar) -> str:
    valid = (
        (metric.type == "counter" and s.name.endswith("_total"))
        or (metric.type == "gaugehistogram" and s.name.endswith("_bucket"))
        or (metric.type == "histogram" and (s.name.endswith("_bucket") or s.name == metric.name))
    )
    if not valid:
        raise ValueError(
            f"Metric {metric.name} has exemplars, but is not a histogram bucket or counter"
        )
    labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(exemplar.labels.items()))
    timestamp = "" if exemplar.timestamp is None else f" {exemplar.timestamp}"
    return f" # {{{labels}}} {go_float(exemplar.value)}{timestamp}"


def render_openmetrics(families: Sequence[Metric]) -> bytes:
    """OpenMetrics 1.0.0 without the closing `# EOF`, so parts can be concatenated."""
    out: list[str] = []
    append = out.append
    for metric in families:
        if type(metric) is Family:
            append(_family(metric, True))
            continue
        append(_om_header(metric.name, metric.type, metric.documentation, metric.unit))
        for s in metric.samples:
            exemplar = _exemplar(metric, s, s.exemplar) if s.exemplar else ""
            if s.native_histogram:
                continue  # OpenMetrics 1.0 has no native histograms
            timestamp = "" if s.timestamp is None else f" {s.timestamp}"
            value = "" if s.value is None else go_float(s.value)
            append(f"{_om_sample_name(s.name)}{_labels(s.labels)} {value}{timestamp}{exemplar}\n")
    return "".join(out).encode("utf-8")


def finish_openmetrics(parts: Iterable[bytes]) -> bytes:
    """Join OpenMetrics parts and close the exposition."""
    return b"".join(parts) + _OM_EOF


def compress(body: bytes) -> bytes:
    """gzip with a fixed mtime, so equal bodies give equal bytes."""
    # Level 1: a typical body compresses ~10% less well than at level 6 for a quarter
    # of the CPU, and CPU per scrape is what an exporter is judged by.
    return gzip.compress(body, compresslevel=1, mtime=0)


def _media_ranges(header: str) -> list[tuple[str, float]]:
    ranges = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        ranges.append((media, q))
    return ranges


@lru_cache(maxsize=256)
def wants_openmetrics(accept: str) -> bool:
    """True when the Accept header prefers OpenMetrics at least as much as plain text."""
    om_q = 0.0
    text_q = 0.0
    for media, q in _media_ranges(accept):
        if media == "application/openmetrics-text":
            om_q = max(om_q, q)
        elif media in ("text/plain", "text/*", "*/*"):
            text_q = max(text_q, q)
    return om_q > 0 and om_q >= text_q


@lru_cache(maxsize=256)
def accepts_gzip(accept_encoding: str) -> bool:
    """True when Accept-Encoding allows gzip (explicitly or through `*`)."""
    star = False
    for coding, q in _media_ranges(accept_encoding):
        if coding in ("gzip", "x-gzip"):
            return q > 0
        if coding == "*":
            star = q > 0
    return star
