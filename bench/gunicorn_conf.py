"""gunicorn settings for the benchmark; workers, class and threads come from the command line."""

from bench import httpstats  # noqa: F401 - creates the shared counters before the fork

accesslog = None
errorlog = "-"
loglevel = "warning"
backlog = 2048
timeout = 120
graceful_timeout = 5
