"""PromQL the dashboards share: the job/instance selector, rates over `$__rate_interval`, sums."""

from __future__ import annotations

SEL = 'job=~"$job", instance=~"$instance"'


def sel(metric: str, extra: str = "") -> str:
    """`metric{job, instance[, extra]}`: a series narrowed to the chosen jobs and instances."""
    selector = SEL + (", " + extra if extra else "")
    return f"{metric}{{{selector}}}"


def rate(metric: str, extra: str = "") -> str:
    """`rate(metric{job, instance[, extra]}[$__rate_interval])`."""
    return f"rate({sel(metric, extra)}[$__rate_interval])"


def sum_by(by: str, expr: str) -> str:
    """`sum by (labels) (expr)`, or `sum(expr)` when `by` is empty."""
    grouping = f" by ({by}) " if by else ""
    return f"sum{grouping}({expr})"


def sum_rate(by: str, metric: str, extra: str = "") -> str:
    """`sum by (labels) (rate(...))`, or `sum(rate(...))` when `by` is empty."""
    return sum_by(by, rate(metric, extra))


def quantile(q: str, by: str, histogram: str) -> str:
    """The q-quantile of a histogram's `_bucket` rates, kept apart by the labels in `by`."""
    return f"histogram_quantile({q}, {sum_rate('le, ' + by, histogram + '_bucket')})"


def ratio(numerator: str, denominator: str, extra: str = "") -> str:
    """`numerator{sel} / denominator{sel}`: two metrics of one selector divided."""
    return f"{sel(numerator, extra)} / {sel(denominator, extra)}"


def plus(*exprs: str) -> str:
    """The expressions added: `a + b + ...`."""
    return " + ".join(exprs)
