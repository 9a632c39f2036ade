"""Running Celery tasks in tests."""


def run_task(task, **kwargs):
    """Run a task as beat would (eagerly in tests: no broker) and return its result.

    Not `.get()`: celery's "no join inside a task" flag is process-global, and eager
    tasks run by other tests' threads can leave it set.
    """
    result = task.delay(**kwargs)
    assert result.successful(), result.traceback
    return result.result
