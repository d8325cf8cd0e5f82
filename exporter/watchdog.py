"""Running a batch of jobs inline on one worker thread, under a watchdog for the one that hangs.

A collection is a dozen jobs of well under a millisecond each. Handing each job to a thread
and waiting for it costs more CPU than the job does (a wake-up, a GIL hand-over and a
context switch each way), so one worker runs a whole batch inline, one job after another,
and the batch costs one hand-off in and one out. The watchdog is `check()`, called by
whoever waits for the batch (the event loop, on a timer it already runs) every
`spill_after` seconds and at each job's deadline, so it needs no thread of its own and
no wake-up for the batches that finish in time (nearly all of them):

- a job still running after `spill_after` gets its worker retired: the worker finishes
  that job and exits, and a fresh worker takes the rest of the batch and every later one,
  so a slow or hung job delays the others by `spill_after` at most;
- a job past its deadline is reported timed out, so its batch completes without it;
- a job still running from an earlier batch is not started again but reported busy. A
  thread stuck in a blocking system call cannot be stopped in Python, so this is what
  bounds a hung job to one thread, however many batches come after.
"""

from __future__ import annotations

import enum
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Never wait less than this between two checks (a clock that reads an instant early must
# not turn the waiter into a busy loop).
_MIN_CHECK = 0.001


class State(enum.Enum):
    """How a job ended."""

    DONE = "done"
    FAILED = "failed"
    TIMED_OUT = "timed out"
    BUSY = "busy"


@dataclass(frozen=True)
class Job:
    """One unit of work: `key` names it (one copy per key runs at a time)."""

    key: str
    timeout: float
    call: Callable[[], object]


@dataclass
class JobResult:
    """What a job returned or raised, and how long it ran."""

    state: State
    duration: float = 0.0
    value: object = None
    error: BaseException | None = None


OnDone = Callable[[list[JobResult]], None]


class _Batch:
    """One batch in progress: its jobs, the next one to claim, and what each produced."""

    def __init__(self, jobs: Sequence[Job], on_done: OnDone) -> None:
        self.jobs = list(jobs)
        self.results: list[JobResult | None] = [None] * len(self.jobs)
        self.started = time.monotonic()
        self.next = 0
        self.remaining = len(self.jobs)
        self.on_done = on_done
        self.ended = False

    def settle(self, index: int, result: JobResult) -> None:
        """Record a job's result unless it already has one (a late job after its timeout)."""
        if self.results[index] is None:
            self.results[index] = result
            self.remaining -= 1

    def end(self) -> bool:
        """True exactly once, to the caller that sees every job settled."""
        if self.remaining or self.ended:
            return False
        self.ended = True
        return True

    def finish(self) -> None:
        self.on_done([r for r in self.results if r is not None])

    def deadline(self, index: int) -> float:
        return self.started + self.jobs[index].timeout


class _Worker:
    """A daemon thread taking batches from its queue; exits once retired."""

    def __init__(self, runner: InlineRunner) -> None:
        self.batches: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self.retired = False
        # (batch, job index, start time) of the job this worker is running.
        self.current: tuple[_Batch, int, float] | None = None
        self._runner = runner
        threading.Thread(target=self._loop, name="collector", daemon=True).start()

    def _loop(self) -> None:
        while not self.retired and (batch := self.batches.get()) is not None:
            self._runner.work(self, batch)


class InlineRunner:
    """Runs batches of jobs inline on one worker; see the module docstring."""

    def __init__(self, spill_after: float) -> None:
        self.spill_after = spill_after
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._workers: set[_Worker] = set()
        self._batches: list[_Batch] = []
        self._busy: set[str] = set()
        self._closed = False

    def submit(self, jobs: Sequence[Job], on_done: OnDone) -> None:
        """Run `jobs`; `on_done(results)` is called once, on whichever thread ends the batch.

        The caller must then call `check()` when it says until `on_done` has been called.
        """
        batch = _Batch(jobs, on_done)
        with self._lock:
            if self._closed:
                raise RuntimeError("runner is shut down")
            if batch.jobs:
                self._batches.append(batch)
                self._primary().batches.put(batch)
                return
        on_done([])

    def shutdown(self) -> None:
        """Stop the worker; a job stuck in a system call is left behind."""
        with self._lock:
            self._closed = True
            if self._worker is not None:
                self._worker.batches.put(None)
                self._worker = None

    def _primary(self) -> _Worker:
        if self._worker is None:
            self._worker = _Worker(self)
            self._workers.add(self._worker)
        return self._worker

    def work(self, worker: _Worker, batch: _Batch) -> None:
        """Run the batch's unclaimed jobs on `worker` until none is left or it is retired."""
        while True:
            with self._lock:
                if worker.retired:
                    return
                index = self._claim(batch)
                if index is None:
                    finished = self._end(batch)
                else:
                    job = batch.jobs[index]
                    self._busy.add(job.key)
                    worker.current = (batch, index, time.monotonic())
            if index is None:
                if finished:
                    batch.finish()
                return
            result = _call(job)
            with self._lock:
                self._busy.discard(job.key)
                worker.current = None
                batch.settle(index, result)
                finished = self._end(batch)
                if worker.retired:
                    self._workers.discard(worker)
            if finished:
                batch.finish()

    def _end(self, batch: _Batch) -> bool:
        if batch.end():
            self._batches.remove(batch)
            return True
        return False

    def _claim(self, batch: _Batch) -> int | None:
        """The next job of the batch to start; a job already settled or busy is skipped."""
        while batch.next < len(batch.jobs):
            index = batch.next
            batch.next += 1
            if batch.results[index] is not None:
                continue
            if batch.jobs[index].key in self._busy:
                batch.settle(index, JobResult(State.BUSY))
                continue
            return index
        return None

    def check(self) -> float:
        """Retire workers and time jobs out as due; seconds until the next check is due."""
        now = time.monotonic()
        finished: list[_Batch] = []
        next_check: float | None = None
        with self._lock:
            for worker in list(self._workers):
                if worker.current is None:
                    continue
                batch, index, began = worker.current
                overdue = now >= batch.deadline(index)
                if not worker.retired and (overdue or now - began >= self.spill_after):
                    self._retire(worker, batch)
                elif not worker.retired:
                    next_check = _sooner(next_check, began + self.spill_after)
            for batch in list(self._batches):
                # A job may start between two checks: look again within spill_after.
                next_check = _sooner(next_check, now + self.spill_after)
                for index in range(len(batch.jobs)):
                    if batch.results[index] is not None:
                        continue
                    deadline = batch.deadline(index)
                    if now < deadline:
                        next_check = _sooner(next_check, deadline)
                    else:
                        batch.settle(index, JobResult(State.TIMED_OUT, batch.jobs[index].timeout))
                if self._end(batch):
                    finished.append(batch)
        for batch in finished:
            batch.finish()
        if next_check is None:
            return self.spill_after
        return max(_MIN_CHECK, next_check - time.monotonic())

    def _retire(self, worker: _Worker, batch: _Batch) -> None:
        """Let `worker` finish its job alone; a new worker takes the rest of its queue."""
        worker.retired = True
        if worker is not self._worker:
            return
        self._worker = None
        if self._closed:
            return
        fresh = self._primary()
        fresh.batches.put(batch)
        while True:
            try:
                queued = worker.batches.get_nowait()
            except queue.Empty:
                break
            if queued is not None:
                fresh.batches.put(queued)


def _sooner(a: float | None, b: float) -> float:
    return b if a is None or b < a else a


def _call(job: Job) -> JobResult:
    begin = time.perf_counter()
    try:
        value = job.call()
    except Exception as exc:
        return JobResult(State.FAILED, time.perf_counter() - begin, error=_without_tracebacks(exc))
    return JobResult(State.DONE, time.perf_counter() - begin, value=value)


def _without_tracebacks(exc: BaseException) -> BaseException:
    """`exc` with its own and its chained exceptions' tracebacks dropped.

    A traceback holds the frames it passed through and, by their `f_back`, the worker's
    frame in `work`, which holds the batch and so this very result: every failed job
    (an unavailable collector fails on every collection) would make its whole batch,
    every family of the collection included, a reference cycle that only a full garbage
    collection frees. Those piled up and made the full collections slow, in the scrapes'
    tail. Results only ever report the exception's type and message.
    """
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
    return exc
