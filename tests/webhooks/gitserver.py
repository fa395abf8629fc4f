"""A Git smart-HTTP server for tests: dulwich's WSGI app on 127.0.0.1, behind a token check.

    with GitServer(tmp_path / "repos", token="t0ken") as server:
        url = server.create("config")          # https-like URL of a new bare repository
        requests_before = server.requests

Every request must carry basic auth whose password is the token (any user name), as
GitHub, Azure DevOps and GitLab accept tokens over HTTPS; otherwise 401.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer, make_server

from dulwich.repo import Repo
from dulwich.server import DictBackend
from dulwich.web import WSGIRequestHandlerLogger, WSGIServerLogger, make_wsgi_chain

StartResponse = Callable[..., Any]
Environ = dict[str, Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]


class GitServer:
    """Serves bare repositories under `root` at http://127.0.0.1:<port>/<name>.git."""

    def __init__(self, root: Path, token: str) -> None:
        self.root = root
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.requests = 0
        self.refused = 0
        self.pushes = 0
        self._backend = DictBackend({})
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def create(self, name: str) -> tuple[str, Path]:
        """A new empty bare repository: (its URL, its path on disk)."""
        path = self.root / f"{name}.git"
        path.mkdir(parents=True)
        repo = Repo.init_bare(str(path))
        repo.refs.set_symbolic_ref(b"HEAD", b"refs/heads/main")  # type: ignore[arg-type]
        self.repos[name] = repo
        self._backend.repos[f"/{name}.git".encode()] = repo  # type: ignore[index]
        return f"{self.base_url}/{name}.git", path

    def _authorized(self, environ: Environ) -> bool:
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            _, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        return password == self.token

    def _app(self, git: App) -> App:
        def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
            self.requests += 1
            if not self._authorized(environ):
                self.refused += 1
                start_response(
                    "401 Unauthorized",
                    [("WWW-Authenticate", 'Basic realm="git"'), ("Content-Length", "0")],
                )
                return [b""]
            if (
                "git-receive-pack"
                in str(environ.get("PATH_INFO", "")) + str(environ.get("QUERY_STRING", ""))
                and environ.get("REQUEST_METHOD") == "POST"
            ):
                self.pushes += 1
            return git(environ, start_response)

        return app

    def __enter__(self) -> GitServer:
        self.root.mkdir(parents=True, exist_ok=True)
        git = make_wsgi_chain(self._backend)
        self._server = make_server(
            "127.0.0.1",
            0,
            self._app(git),
            server_class=WSGIServerLogger,
            handler_class=WSGIRequestHandlerLogger,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="git-http", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for repo in self.repos.values():
            repo.close()
