"""A small job interface: RQ on Redis when REDIS_URL is set, inline otherwise."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, current_app, has_request_context, request
from redis import Redis
from rq import Queue, Worker
from rq.job import Job

from brokerage.db import after_commit, request_reads_only

# Jobs are named, not pickled callables, so a worker on another machine runs the same code. Each
# package's jobs are registered by `wiring.connect_domains()` (create_app calls it, and so does every
# worker, which `brokerage worker` gives its app): this module sits below them all and imports none.
REGISTRY: dict[str, Callable[..., Any]] = {}


@dataclass
class JobHandle:
    """What the caller learns about a job it queued."""

    id: str
    name: str
    status: str  # queued, started, finished or failed
    result: Any = None
    error: str | None = None


def _resolve(name: str) -> Callable[..., Any]:
    if name not in REGISTRY:
        raise KeyError(f"unknown job {name!r}")
    return REGISTRY[name]


def register(name: str, function: Callable[..., Any]) -> None:
    """Add a job by name; the same function again is fine, another function under a used name is refused."""
    if REGISTRY.get(name, function) is not function:
        raise ValueError(f"job {name!r} is already registered to another function")
    REGISTRY[name] = function


def enqueue(name: str, **kwargs: Any) -> JobHandle:
    """Queue a job on Redis, or run it now when no Redis is configured.

    A job always works in its own session and commits there. A request that starts one writes nothing
    itself (its view is marked `db.only_jobs_write`): nothing of the request's would be committed when
    the job looks, and on SQLite an inline job would wait for the request's write lock.
    """
    _resolve(name)  # fail fast on unknown names, in the caller's process
    if has_request_context() and not request_reads_only():
        raise RuntimeError(f"{request.method} {request.path} queues {name!r} while it may write: mark its view @only_jobs_write")
    app = current_app._get_current_object()
    redis_url = app.config.get("REDIS_URL")
    if not redis_url:
        job_id = uuid.uuid4().hex
        try:
            result = _resolve(name)(**kwargs)
        except Exception as error:  # the job's own error is reported, not raised into the view
            app.logger.exception("Inline job %s failed", name)
            return JobHandle(id=job_id, name=name, status="failed", error=str(error))
        return JobHandle(id=job_id, name=name, status="finished", result=result)
    queue = _queue(app)
    job = queue.enqueue(run_named_job, name, kwargs, job_timeout=3600, result_ttl=86400, failure_ttl=86400)
    return JobHandle(id=job.id, name=name, status="queued")


def enqueue_after_commit(name: str, **kwargs: Any) -> None:
    """Queue a job once the request's changes are committed (never if they are rolled back).

    For a view that writes and then needs a job to carry on from what it wrote: a webhook that stores
    its event, an officer releasing a payment run. Outside a request it queues now.
    """
    _resolve(name)
    if not has_request_context():
        enqueue(name, **kwargs)
        return
    app = current_app._get_current_object()

    def _queue_it() -> None:
        handle = enqueue(name, **kwargs)
        if handle.status == "failed":
            app.logger.error("Job %s queued after commit failed: %s", name, handle.error)

    after_commit(_queue_it)


def fetch(job_id: str) -> JobHandle:
    """Return the status (and result, once finished) of a queued job."""
    app = current_app._get_current_object()
    job = Job.fetch(job_id, connection=_redis(app))
    status = job.get_status(refresh=True)
    status = getattr(status, "value", status)
    name = job.args[0] if job.args else "?"
    error = None
    if status == "failed":
        latest = job.latest_result()
        error = latest.exc_string.strip().splitlines()[-1] if latest and latest.exc_string else "failed"
    return JobHandle(id=job.id, name=name, status=status, result=job.return_value() if status == "finished" else None, error=error)


_worker_app: Flask | None = None


def run_named_job(name: str, kwargs: dict) -> Any:
    """Run a registered job inside an app context (this is what RQ workers execute)."""
    if _worker_app is None:
        # The worker process is started by `brokerage worker`, which hands its app to run_worker; this
        # module sits below the app factory, so it never builds an app itself.
        raise RuntimeError("start job workers with `brokerage worker`, which gives them the app")
    with _worker_app.app_context():
        return _resolve(name)(**kwargs)


def _redis(app: Flask):
    return Redis.from_url(app.config["REDIS_URL"])


def _queue(app: Flask):
    return Queue(app.config["JOB_QUEUE"], connection=_redis(app))


class ListeningWorker(Worker):
    """RQ's worker, whose thread listening for commands (stop a job, shut down) wakes every second, so the worker ends at once.

    RQ's thread waits up to 60 s at a time (`run_in_thread(sleep_time=60)`). If it reads the reply to
    the worker's UNSUBSCRIBE before its stop flag is set, it goes back to waiting up to 60 s for a
    subscription that never comes, and redis-py 8's `PubSubWorkerThread.stop()` waits for it: a
    `brokerage worker --burst` took 63 s to end after a 3 s job when the machine was busy.
    """

    LISTEN_SECONDS = 1.0

    def subscribe(self) -> None:
        """Subscribe to this worker's command channel, as RQ does, with a thread that wakes every `LISTEN_SECONDS`."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=self.LISTEN_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler
        )


def run_worker(app: Flask, *, burst: bool = False) -> None:
    """Run an RQ worker on the app's queue."""
    global _worker_app
    _worker_app = app
    ListeningWorker([_queue(app)], connection=_redis(app)).work(burst=burst, with_scheduler=False)
