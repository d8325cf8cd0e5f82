"""Forecasts and anomaly scores of series read from Prometheus (off by default).

The loop (`exporter.forecast.scheduler`) runs in the background from `start()`; `collect()`
only reads its results, so no fit ever runs on the scrape path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import structlog
from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.forecast.config import ForecastConfig
from exporter.forecast.results import Results
from servicekit.tasks import cancel_all

log = structlog.get_logger(__name__)


@register
class ForecastCollector(Collector):
    """Exports tocsin_forecast, tocsin_anomaly_score and the loop's own health."""

    name = "forecast"
    default_enabled = False
    description = "forecasts and anomaly scores of series read from Prometheus"
    Config = ForecastConfig
    config: ForecastConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._results = Results(self.config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # The one place numpy is loaded: imported here rather than with this module, it
        # saves an exporter without this collector about 15 MB of RSS (numpy and the models).
        from exporter.forecast.scheduler import Scheduler

        scheduler = Scheduler(self.config, self._results)
        self._task = asyncio.create_task(scheduler.run(), name="forecast")
        self._task.add_done_callback(_report_crash)

    async def stop(self) -> None:
        await cancel_all([self._task])
        self._task = None

    def collect(self) -> Iterable[Metric]:
        return self._results.families()


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("forecast_loop_crashed", error=repr(task.exception())[:300])
