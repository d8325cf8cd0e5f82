"""Small collectors for the exporter's scrape and server tests: one that works, one that
fails, and (loaded as plugins by tests/integration/test_exporter_stuck_collector.py) ones
that get stuck in a system call, spin, hang on shutdown or block the event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from exporter.collector import Collector


class Static(Collector):
    """Always yields one gauge, `test_static_value 7`."""

    name = "static"

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily("test_static_value", "A constant.", value=7)


class Boom(Collector):
    """Yields one family and then raises, so a partial result must be thrown away."""

    name = "boom"

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily("test_boom_partial", "Emitted before the failure.", value=1)
        raise RuntimeError("disk on fire")


@dataclass
class StuckConfig:
    """`collectors.stuck`: the FIFO to open (nobody ever writes to it)."""

    fifo: str = ""


class Stuck(Collector):
    """Blocks in open(2) on a FIFO without a writer: a collector stuck in a system call."""

    name = "stuck"
    default_enabled = False
    Config = StuckConfig
    config: StuckConfig

    def collect(self) -> Iterable[Metric]:
        with open(self.config.fifo, "rb") as fifo:
            fifo.read()
        yield GaugeMetricFamily("test_stuck_value", "Never reached.", value=1)


@dataclass
class SpinConfig:
    """`collectors.spin`: how long to spin."""

    seconds: float = 300.0


class Spin(Collector):
    """Spins in pure Python (holding the GIL whenever it can): a collector that spins."""

    name = "spin"
    default_enabled = False
    Config = SpinConfig
    config: SpinConfig

    def collect(self) -> Iterable[Metric]:
        end = time.monotonic() + self.config.seconds
        while time.monotonic() < end:
            pass
        yield GaugeMetricFamily("test_spin_value", "Reached after the spin.", value=1)


class HangsOnStop(Collector):
    """Collects at once, but its stop() blocks the event loop: a shutdown that hangs."""

    name = "hangs_on_stop"
    default_enabled = False

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily("test_hangs_on_stop_value", "A constant.", value=1)

    async def stop(self) -> None:
        time.sleep(300)


@dataclass
class BlocksLoopConfig:
    """`collectors.blocks_loop`: the file written once the event loop is blocked."""

    marker: str = ""


class BlocksLoop(Collector):
    """Starts a background job that blocks the event loop: a plugin that breaks the rules."""

    name = "blocks_loop"
    default_enabled = False
    Config = BlocksLoopConfig
    config: BlocksLoopConfig

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily("test_blocks_loop_value", "A constant.", value=1)

    async def start(self) -> None:
        asyncio.get_running_loop().call_later(0.5, self._block)

    def _block(self) -> None:
        Path(self.config.marker).write_text("blocked\n")
        time.sleep(300)
