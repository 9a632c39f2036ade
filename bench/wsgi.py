"""The shop's WSGI application, wrapped to count the SQL queries of checkout requests.

GET /__bench__/stats answers the counters (summed over all gunicorn workers). Every
other request goes to config.wsgi.application unchanged; only POSTs to the checkout
path are counted (with Django's execute_wrapper, which costs a function call per query).
"""

import json

from django.db import connection

from bench import httpstats
from config.wsgi import application as django_application

CHECKOUT_PATH = "/api/v1/orders/checkout"


class _Counter:
    count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/__bench__/stats":
        body = json.dumps(httpstats.read()).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    if path != CHECKOUT_PATH or environ.get("REQUEST_METHOD") != "POST":
        return django_application(environ, start_response)
    counter = _Counter()
    with connection.execute_wrapper(counter):
        response = django_application(environ, start_response)
    httpstats.add(1, counter.count)
    return response
