"""HTTP server around ``SimulatorApp`` (stdlib ``ThreadingHTTPServer``)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .app import DEFAULT_API_VERSION, Response, SimulatorApp


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps the SDK's pooled connections alive; every response has Content-Length.
    protocol_version = "HTTP/1.1"
    server_version = "StripeSimulator/1.0"
    timeout = 60  # drop idle keep-alive connections eventually
    # Send headers and body in one segment, without Nagle: otherwise delayed ACKs add ~40 ms
    # to every keep-alive request.
    wbufsize = -1
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:  # http.server's naming
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        url = urlsplit(self.path)
        app = self.server.app
        response = app.handle(self.command, url.path, url.query, self.headers, body)
        self._write(response)
        app.log(f"{self.command} {url.path} -> {response.status}{_summary(response)}")

    def _write(self, response: Response) -> None:
        payload = b""
        if response.body is not None:
            payload = (json.dumps(response.body, indent=2) + "\n").encode()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.body is not None:
            self.send_header("Content-Type", "application/json")
        if response.status != 204:  # a 204 must not carry Content-Length
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass  # requests are logged by _dispatch() through app.log instead of stderr


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SimulatorApp) -> None:
        self.app = app
        super().__init__(address, _Handler)


def _summary(response: Response) -> str:
    body = response.body
    if isinstance(body, dict):
        if "error" in body and isinstance(body["error"], dict):
            error = body["error"]
            kind = "/".join(str(error[k]) for k in ("type", "code") if error.get(k))
            return f" {kind}: {error.get('message')}"
        if "id" in body:
            return f" {body['id']} {body.get('status', '')}".rstrip()
    return ""


class StripeSimulator(SimulatorApp):
    """An offline Stripe API served over HTTP; see the package docstring for the API.

    The socket is bound in ``__init__`` so that ``url`` is known (and the port reserved)
    before ``start()``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_simulator",  # noqa: S107 - test-mode default
        api_key: str | None = None,
        publishable_key: str | None = None,
        retry_delays: Sequence[float] = (1, 2, 4, 8, 16),
        webhook_timeout: float = 10.0,
        webhook_workers: int = 8,
        api_version: str = DEFAULT_API_VERSION,
        log: Callable[[str], None] | None = None,
        state_file: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            api_key=api_key,
            publishable_key=publishable_key,
            retry_delays=retry_delays,
            webhook_timeout=webhook_timeout,
            webhook_workers=webhook_workers,
            api_version=api_version,
            log=log,
            state_file=state_file,
        )
        self._server = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StripeSimulator:
        """Serve in a daemon thread; returns self so ``sim = StripeSimulator().start()`` works."""
        self._start_background()
        # A short poll interval keeps stop() fast (shutdown() waits for the next poll).
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stripe-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (used by the management command)."""
        self._start_background()
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
            self._stop_background()

    def stop(self) -> None:
        """Stop serving and delivering; pending deliveries are dropped (or, with a state
        file, written there and sent after the next start)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()
        self._stop_background()

    def _start_background(self) -> None:
        self.dispatcher.start()
        if self.state_file is not None:
            self.state_file.start()

    def _stop_background(self) -> None:
        self.dispatcher.stop()
        if self.state_file is not None:
            self.state_file.stop()  # after the last delivery outcome is recorded

    def __enter__(self) -> StripeSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
