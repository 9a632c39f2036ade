"""Celery's side of observability, connected by config.celery.

- Logs: the worker and beat log through Django's LOGGING (config/logging.py), the same
  JSON lines as the web, instead of Celery's plain text: connecting `setup_logging` is
  Celery's documented way to keep it off the root logger.
- Every log line of a task names it (`task_id`, `task`) and carries the `request_id` of the
  web request that queued it: publishing adds the id to the message headers; the worker
  binds it, and audit events the task writes record it too.
- Task outcomes and durations are counted (config.metrics), and the worker serves its
  metrics on WORKER_METRICS_PORT (config.metrics.serve_worker_metrics).

Importing this module imports neither Django models nor prometheus_client: config.celery
loads it before the settings, and prometheus_client must see the settings' preparation of
PROMETHEUS_MULTIPROC_DIR first (config/multiprocess.py).
"""

import os
import time

import structlog
from celery import signals

# The message header that carries the request id from the publisher to the worker.
REQUEST_ID_HEADER = "shop_request_id"

_started: dict[str, float] = {}  # task id -> monotonic start, for the duration metric
_eager_tokens: dict[str, tuple] = {}  # task id -> what to restore after an eager run


@signals.setup_logging.connect(weak=False)
def keep_django_logging(**kwargs) -> None:
    """Django configured the root logger from LOGGING when the worker (or beat) set it up;
    with a receiver connected, Celery leaves it as it is instead of adding plain text."""


@signals.before_task_publish.connect(weak=False)
def add_request_id(headers=None, **kwargs) -> None:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@signals.task_prerun.connect(weak=False)
def bind_task_context(task_id=None, task=None, **kwargs) -> None:
    from audit import context as audit_context

    _started[task_id] = time.monotonic()
    request = task.request
    if request.is_eager:
        # Run inside the caller (no broker: `make run`, the tests): add to its context,
        # which already holds its request id, and give it back unchanged afterwards.
        _eager_tokens[task_id] = (
            structlog.contextvars.bind_contextvars(task_id=task_id, task=task.name),
            None,
        )
        return
    # A worker process runs one task after another: nothing of the last one may remain.
    structlog.contextvars.clear_contextvars()
    context = {"task_id": task_id, "task": task.name}
    request_id = getattr(request, REQUEST_ID_HEADER, None)
    if request_id:
        context["request_id"] = request_id
        audit_context.request_id.set(request_id)
    else:
        audit_context.request_id.set("")
    structlog.contextvars.bind_contextvars(**context)


@signals.task_postrun.connect(weak=False)
def unbind_task_context(task_id=None, task=None, state=None, **kwargs) -> None:
    from config import metrics

    started = _started.pop(task_id, None)
    metrics.observe_task(
        task=task.name,
        state=state or "UNKNOWN",
        seconds=None if started is None else time.monotonic() - started,
    )
    tokens = _eager_tokens.pop(task_id, None)
    if tokens is not None:
        structlog.contextvars.reset_contextvars(**tokens[0])
    elif not task.request.is_eager:
        structlog.contextvars.clear_contextvars()


@signals.celeryd_init.connect(weak=False)
def clear_stale_worker_samples(**kwargs) -> None:
    """A worker (re)starting: the samples its previous run left in its multiprocess
    directory would be added to this run's. This process's own files are kept (its metrics
    are defined already); the pool processes fork afterwards and write new ones."""
    from config import multiprocess

    path = os.environ.get(multiprocess.VARIABLE)
    if path:
        multiprocess.remove_stale_files(path, keep_pid=os.getpid())


@signals.worker_ready.connect(weak=False)
def start_worker_metrics(sender=None, **kwargs) -> None:
    """Started once the pool processes exist, in the worker's main process (only `celery
    worker` sends this signal, not the test suite's embedded worker)."""
    from django.conf import settings

    from config import metrics

    if not settings.WORKER_METRICS_PORT:
        return
    worker = getattr(sender, "controller", None)
    pool = getattr(worker, "pool_cls", "")
    pool = pool if isinstance(pool, str) else getattr(pool, "__module__", "")
    if "prefork" in pool and not metrics.multiprocess_enabled():
        # The pool processes run the tasks; without a shared directory their counts never
        # reach this process. prometheus_client decides at import, so it takes the variable.
        structlog.get_logger("shop.metrics").error(
            "worker_metrics_incomplete",
            hint="set PROMETHEUS_MULTIPROC_DIR (a directory of this worker's own) in the "
            "worker's environment: the prefork pool's task metrics are not exported",
        )
    metrics.serve_worker_metrics(
        addr=settings.WORKER_METRICS_ADDR, port=settings.WORKER_METRICS_PORT
    )


@signals.worker_process_shutdown.connect(weak=False)
def mark_pool_process_dead(pid=None, **kwargs) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())
