"""Counters shared by all gunicorn workers (created in the master before it forks).

bench/gunicorn_conf.py imports this module in the master, so the array below lives in
shared memory that every forked worker inherits; bench/wsgi.py increments it.
"""

import multiprocessing

# [checkout requests, SQL queries run by them]
COUNTERS = multiprocessing.Array("q", 2)


def add(requests: int, queries: int) -> None:
    with COUNTERS.get_lock():
        COUNTERS[0] += requests
        COUNTERS[1] += queries


def read() -> dict:
    with COUNTERS.get_lock():
        return {"checkout_requests": COUNTERS[0], "checkout_queries": COUNTERS[1]}
