"""Run callables at the same moment in real threads, each on its own database connection."""

import threading

from django.db import connections


def run_concurrently(*callables, timeout: float = 60):
    """Start one thread per callable, release them together, wait for all.

    Returns a list with, per callable in order, ("ok", result) or ("error", exception).
    Each thread closes its database connection when done, as django-oscar's helper does.
    """
    barrier = threading.Barrier(len(callables))
    outcomes: list = [None] * len(callables)

    def worker(index, fn):
        try:
            barrier.wait(timeout=timeout)
            outcomes[index] = ("ok", fn())
        except Exception as exc:  # collected and asserted on by the test
            outcomes[index] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(callables)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError("a concurrent worker did not finish (deadlock?)")
    return outcomes
