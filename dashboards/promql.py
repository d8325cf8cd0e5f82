"""PromQL the dashboards share: the cluster/job/instance selector, rates over
`$__rate_interval`, sums."""

from __future__ import annotations

CLUSTER = 'cluster=~"$cluster"'
SEL = CLUSTER + ', job=~"$job", instance=~"$instance"'


def sel(metric: str, extra: str = "") -> str:
    """`metric{cluster, job, instance[, extra]}`: a series narrowed to the chosen clusters,
    jobs and instances."""
    selector = SEL + (", " + extra if extra else "")
    return f"{metric}{{{selector}}}"


def rate(metric: str, extra: str = "") -> str:
    """`rate(metric{cluster, job, instance[, extra]}[$__rate_interval])`."""
    return f"rate({sel(metric, extra)}[$__rate_interval])"


def sum_by(by: str, expr: str) -> str:
    """`sum by (cluster, labels) (expr)`: kept apart by cluster always, so that with All
    clusters chosen two clusters' same-named instances or jobs never add up."""
    grouping = f"cluster, {by}" if by else "cluster"
    return f"sum by ({grouping}) ({expr})"


def sum_rate(by: str, metric: str, extra: str = "") -> str:
    """`sum by (cluster, labels) (rate(...))`."""
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
