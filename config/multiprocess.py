"""PROMETHEUS_MULTIPROC_DIR made safe before prometheus_client reads it.

prometheus_client picks its multiprocess mode when it is first imported, and every metric
then writes a file in that directory as soon as it is defined: a directory that does not
exist yet (exported before gunicorn created it) crashed every `manage.py` command with a
FileNotFoundError. config.settings calls `prepare()` first thing, before any app (and so
any metric) is imported: the directory is created, and if it cannot be, the variable is
dropped with a warning and metrics stay per process.

No Django or prometheus_client import here: settings import this module.
"""

import os
import sys

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def prepare(environ=os.environ) -> str | None:
    """Create the multiprocess directory if needed; returns it, or None when metrics are
    per process (unset, or unusable and therefore unset)."""
    path = environ.get(VARIABLE, "").strip()
    if not path:
        environ.pop(VARIABLE, None)  # set but empty means "off", not "the current directory"
        return None
    try:
        os.makedirs(path, exist_ok=True)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(f"{path} is not writable")
    except OSError as exc:
        if "prometheus_client.values" in sys.modules:
            raise  # too late to fall back: the metrics already chose their storage
        environ.pop(VARIABLE, None)
        print(  # logging is not configured yet: settings are still loading
            f"warning: {VARIABLE}={path} is unusable ({exc}); metrics are kept per process",
            file=sys.stderr,
        )
        return None
    return path


def remove_stale_files(path: str, keep_pid: int | None = None) -> list[str]:
    """Delete the samples of earlier runs (`*_<pid>.db`), except those of `keep_pid` (the
    calling process, whose metrics already have their files open). Returns their names."""
    removed = []
    for name in os.listdir(path):
        if not name.endswith(".db"):
            continue
        if keep_pid is not None and name.rsplit("_", 1)[-1] == f"{keep_pid}.db":
            continue
        try:
            os.remove(os.path.join(path, name))
        except FileNotFoundError:
            continue
        removed.append(name)
    return removed
