"""A second process that solves chunks of the matching network, for instances big enough to gain from it."""

from __future__ import annotations

import multiprocessing
import resource
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

import numpy as np

from brokerage.matching.flow import solve_chunk
from brokerage.matching.instance import Instance

# Instances with this many lines and suppliers start the helper process while pairs are built.
HELPER_MIN_RECORDS = 50_000


class Helper:
    """A second process that solves chunks, started in the background before it is needed."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has already imported the solver, so they start fast.
        context.set_forkserver_preload([__name__])
        self._pool = ProcessPoolExecutor(1, mp_context=context)
        # Starting a process blocks until it runs; a thread keeps that off the critical path.
        self._starter = threading.Thread(target=self._start, daemon=True)
        self._starter.start()

    def _start(self) -> None:
        try:
            self._pool.submit(_warm_up).result()
        except BrokenProcessPool:
            pass  # `submit` reports it again, where the caller can fall back

    def submit(self, jobs) -> Future:
        """Start solving chunks in the helper process."""
        self._starter.join()
        return self._pool.submit(_solve_many, jobs)

    def close(self) -> None:
        """Stop the helper process."""
        self._starter.join()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Helper:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


@contextmanager
def helper_for(instance: Instance) -> Iterator[Helper | None]:
    """Yield a started helper process when the instance is big enough to use one, else None."""
    if len(instance.demand) + len(instance.supply) < HELPER_MIN_RECORDS:
        yield None
        return
    with Helper() as helper:
        yield helper


def solve_split(job_of, count: int, here: list[int], there: list[int], helper: Helper):
    """Solve chunks `there` in the helper and `here` in this process; `job_of(i)` builds chunk i's job. Return the flows and the helper's peak RSS in KiB."""
    solved: list[np.ndarray | None] = [None] * count
    peak_kb = 0
    try:
        future = helper.submit([job_of(i) for i in there])
    except BrokenProcessPool:
        future = None
    for i in here:
        solved[i] = solve_chunk(job_of(i))
    try:
        if future is None:
            raise BrokenProcessPool("the helper did not start")
        flows, peak_kb = future.result()
    except BrokenProcessPool:
        # A helper cannot start when the main script re-runs its work on import; solving here
        # instead gives the same flows, only later.
        flows = [solve_chunk(job_of(i)) for i in there]
    for i, chunk_flow in zip(there, flows):
        solved[i] = chunk_flow
    return solved, peak_kb


def _warm_up() -> int:
    return 0


def _solve_many(jobs) -> tuple[list[np.ndarray], int]:
    """Solve chunks in a helper process; return their flows and the helper's peak RSS in KiB."""
    flows = [solve_chunk(job) for job in jobs]
    return flows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
