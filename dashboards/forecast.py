"""Forecast (forecast.json): each series with the band forecast for it, its anomaly scores,
and the health of the forecast collector (fits, errors, gaps, models available).

The band over the series is the forecast made one horizon earlier (`offset $horizon`), so
what was expected and what came can be compared point by point.
"""

from __future__ import annotations

from dashboards.grafana import Dashboard, Row, Variable
from dashboards.panels import (
    RED_FROM_ONE,
    Query,
    fraction,
    graph,
    query,
    rate_by,
    series,
    stat,
    table,
)
from dashboards.promql import SEL, sel

SERIES = 'series=~"$series"'
ONE = f'{SERIES}, model="$model", horizon="$horizon"'
SCOPE = SEL


def _band(offset: str) -> list[Query]:
    bounds = (("yhat", "forecast"), ("lower", "lower"), ("upper", "upper"))
    return [
        query(sel("tocsin_forecast", ONE + f', bound="{bound}"') + offset, "{{series}} " + name)
        for bound, name in bounds
    ]


def _breaching() -> str:
    """Forecasts past their series' limit, either side."""
    yhat = sel("tocsin_forecast", 'bound="yhat"')
    match = "on (cluster, job, instance, series) group_left ()"
    below = sel("tocsin_forecast_limit", 'side="below"')
    above = sel("tocsin_forecast_limit", 'side="above"')
    return f"({yhat} < {match} {below}) or ({yhat} > {match} {above})"


def forecasts() -> Row:
    """The series against its forecast band, the forecast ahead, and the scores."""
    return Row(
        "Series, forecast and anomaly score",
        [
            graph(
                "Series and its forecast band",
                "The series as the collector read it, and the forecast (with its prediction "
                "interval) that the chosen model made for each moment one horizon earlier.",
                "short",
                series("tocsin_forecast_observed", "{{series}}", SERIES),
                *_band(" offset $horizon"),
                width=24,
                height=10,
            ),
            graph(
                "Forecast ahead",
                "What the chosen model expects one horizon from now, with its interval; "
                "ForecastLimitBreach fires when the forecast crosses the series' limit.",
                "short",
                *_band(""),
                series("tocsin_forecast_limit", "{{series}} limit ({{side}})", SERIES),
            ),
            graph(
                "Anomaly score",
                "Each model's score of the latest points; above 1 is anomalous, and "
                "ForecastAnomalyScoreHigh fires when it stays there for 5 minutes.",
                "short",
                series("tocsin_anomaly_score", "{{series}} {{model}}", SERIES),
                min=0,
                thresholds=RED_FROM_ONE,
            ),
            stat(
                "Anomalous now",
                "Series and model pairs scoring above 1 now.",
                "short",
                query(f"count({sel('tocsin_anomaly_score', SERIES)} > 1) or vector(0)"),
                thresholds=RED_FROM_ONE,
            ),
            stat(
                "Breaching forecasts",
                "Forecasts past their series' limit now (any model and horizon).",
                "short",
                query(f"count({_breaching()}) or vector(0)"),
                thresholds=RED_FROM_ONE,
            ),
        ],
    )


def health() -> Row:
    """How the fits go: duration, age, errors, gaps and which models can run."""
    return Row(
        "Forecast collector",
        [
            graph(
                "Fit duration",
                "How long the last fit of each series and model took (in the collector's "
                "worker threads, never on the scrape path).",
                "s",
                series("tocsin_forecast_fit_duration_seconds", "{{series}} {{model}}", SERIES),
            ),
            graph(
                "Time since the last fit",
                "Seconds since each model was last fitted; it grows past fit_every when fits fail.",
                "s",
                query(
                    f"time() - {sel('tocsin_forecast_last_fit_timestamp_seconds', SERIES)}",
                    "{{series}} {{model}}",
                ),
            ),
            graph(
                "Fit errors",
                "Failed fits and inferences per second, by series and model.",
                "ops",
                rate_by("series, model", "tocsin_forecast_fit_errors_total"),
            ),
            graph(
                "Series read errors",
                "Reads of a series that gave nothing to fit, per second, by reason "
                "(unreachable, http_error, empty, not_one_series, too_many_gaps, ...).",
                "ops",
                rate_by("series, reason", "tocsin_forecast_series_errors_total"),
            ),
            fraction(
                "Missing points",
                "Share of each read's points that were absent or NaN.",
                series("tocsin_forecast_series_missing_ratio", "{{series}}", SERIES),
            ),
            table(
                "Models available",
                "1: the configured model runs here; 0: unknown, or its extra "
                "(tocsin[forecast], tocsin[prophet]) is not installed.",
                "short",
                query(
                    f"max by (cluster, model) (tocsin_forecast_model_available{{{SCOPE}}})",
                    "{{cluster}} {{model}}",
                ),
            ),
        ],
    )


def dashboard() -> Dashboard:
    """Forecasts and anomaly scores from the forecast collector."""
    scope = f"tocsin_forecast_query_success{{{SCOPE}}}"
    return Dashboard(
        name="forecast",
        title="Forecast",
        description="Series read from Prometheus by the forecast collector, the forecast "
        "band for each, anomaly scores (above 1 is anomalous), and the collector's health.",
        tag="forecast",
        job_metric="tocsin_forecast_query_success",
        variables=[
            Variable("series", "Series", f"label_values({scope}, series)"),
            Variable(
                "model",
                "Model",
                f"label_values(tocsin_forecast{{{SCOPE}}}, model)",
                multi=False,
            ),
            Variable(
                "horizon",
                "Horizon",
                f"label_values(tocsin_forecast{{{SCOPE}}}, horizon)",
                multi=False,
            ),
        ],
        rows=[forecasts(), health()],
    )
