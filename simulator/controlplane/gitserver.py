"""A git server on loopback (smart HTTP, read-only): `git http-backend` behind a small server.

The real source-controller clones over http(s) or ssh, never from a local path; the world serves
this repository at `http://127.0.0.1:PORT/<name>.git` so the GitRepository the bootstrapper
submits fetches the branch under test, as an appliance fetches its release branch. Only fetches
are served (upload-pack); a push is refused by http-backend's defaults.
"""

from __future__ import annotations

import http.server
import logging
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

__all__ = ["GitServer"]

_log = logging.getLogger(__name__)
_FORWARDED = ("Content-Type", "Content-Encoding", "Git-Protocol", "Accept")


class GitServer:
    """Serves one repository read-only; `url` is what `git clone` and Flux are given."""

    def __init__(self, repository: Path, *, host: str = "127.0.0.1") -> None:
        self.repository = repository.resolve()
        self.name = f"{self.repository.name}.git"
        self.host = host
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> GitServer:
        git = shutil.which("git")
        if git is None:
            raise FileNotFoundError("git is not on PATH: the git server needs `git http-backend`")
        served, git_program = self, git

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._backend()

            def do_POST(self) -> None:
                self._backend()

            def _backend(self) -> None:
                path, _, query = self.path.partition("?")
                prefix = f"/{served.name}"
                if not (path == prefix or path.startswith(prefix + "/")):
                    self.send_error(404, "no such repository")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                env = {
                    "PATH": os.environ.get("PATH", ""),
                    "GIT_PROJECT_ROOT": str(served.repository),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "PATH_INFO": path[len(prefix) :] or "/",
                    "QUERY_STRING": query,
                    "REQUEST_METHOD": self.command,
                    "CONTENT_LENGTH": str(len(body)),
                    "REMOTE_ADDR": self.client_address[0],
                }
                for header in _FORWARDED:
                    value = self.headers.get(header)
                    if value is not None:
                        env["HTTP_" + header.upper().replace("-", "_")] = value
                if "Content-Type" in self.headers:
                    env["CONTENT_TYPE"] = self.headers["Content-Type"]
                done = subprocess.run(
                    [git_program, "http-backend"],
                    input=body,
                    env=env,
                    capture_output=True,
                    check=False,
                )
                head, _, payload = done.stdout.partition(b"\r\n\r\n")
                status, headers = 200, []
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                _log.debug("git server: " + format, *args)

        server = http.server.ThreadingHTTPServer((self.host, 0), Handler)
        self._server = server
        self.url = f"http://{self.host}:{server.server_address[1]}/{self.name}"
        self._thread = threading.Thread(target=server.serve_forever, name="git-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
