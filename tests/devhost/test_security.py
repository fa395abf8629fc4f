"""Keys, least privilege in URLs, and request limits of devhost's HTTP listeners.

The real host's rules: the Durable extension's management URLs carry its system key
(`HttpApiHandler.GetClientResponseLinks` appends the webhook URL's `code=`), never the master
key; a key matches its own auth level only, or the master key all
(`AuthUtility.PrincipalHasAuthLevelClaim`); the client binding's `rpcBaseUrl` is a second
listener on 127.0.0.1 (`LocalHttpListener`); Kestrel reads chunked bodies, refuses bodies
over `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT` (100 MB) with 413 and drops slow clients.
"""

from __future__ import annotations

import json
import select
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from devhost.host import DevHost
from devhost.http import DEFAULT_MAX_BODY, RequestLimits
from devhost.process import DevHostProcess
from devhost.settings import SettingsError
from tests.devhost.conftest import APP_DIR, FUNCTION_KEY, MASTER_KEY, copy_app, wait_status

# Raw HTTP ---------------------------------------------------------------------------------


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=30)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response off a raw connection: status, headers (lower-case names), body."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        assert piece, f"the connection closed before a response: {data!r}"
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        piece = sock.recv(65536)
        assert piece, "the connection closed in the middle of a response body"
        body += piece
    return status, headers, body[:length]


def exchange(url: str, raw: bytes) -> tuple[int, dict[str, str], dict[str, str]]:
    """Send raw bytes, read the answer; the body must be a JSON object."""
    with connect(url) as sock:
        sock.sendall(raw)
        status, headers, body = read_response(sock)
    return status, headers, json.loads(body)


def start_request(rest: str) -> bytes:
    """A start of `chaining` with the function key: the request line, Host, then `rest`
    (more headers, the blank line, the body) as it stands."""
    head = f"POST /api/start/chaining?code={FUNCTION_KEY} HTTP/1.1\r\nHost: devhost\r\n"
    return (head + rest).encode("latin-1")


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """True when the server closes the connection (after any answer) within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], 0.1)
        if readable:
            try:
                if not sock.recv(65536):
                    return True
            except OSError:
                return True
    return False


# Keys stay out of the log -----------------------------------------------------------------


def test_keys_are_in_the_key_file_only_never_in_the_log(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    copy_app(app_dir)
    state = tmp_path / "state"
    log = tmp_path / "devhost.log"
    running = DevHostProcess(
        app_dir,
        state_dir=state,
        values={"TEST_TIMER_SCHEDULE": "0 0 * * * *", "TEST_QUEUE": "devhost-test"},  # no keys
        extra_args=["--no-timers", "--no-queues", "-v"],
        log_file=log,
        drop_env=("DEVHOST_",),
    )
    keys_file = state / "keys.json"
    stored = json.loads(keys_file.read_text(encoding="utf-8"))
    assert set(stored) == {"functionKey", "masterKey", "systemKey"}
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert running.function_key == stored["functionKey"]
    with running:
        base = running.base_url
        ok = requests.get(
            f"{base}/api/instances", params={"code": running.function_key}, timeout=30
        )
        assert ok.status_code == 200
        started = requests.post(
            f"{base}/api/start/chaining", params={"code": running.function_key}, timeout=30
        )
        assert started.status_code == 202
        refused = requests.get(f"{base}/api/admin-only?code={running.function_key}", timeout=30)
        assert refused.status_code == 401
    text = log.read_text(encoding="utf-8")
    assert "GET /api/instances?code=***" in text  # requests are logged (-v), keys masked
    for name, key in stored.items():
        assert key not in text, f"the {name} is in devhost's log"


def test_start_names_where_the_keys_are(tmp_path: Path) -> None:
    """The console of `devhost start` says where the keys are kept, not what they are."""
    app_dir = copy_app(tmp_path / "app")
    log = tmp_path / "devhost.log"
    with DevHostProcess(
        app_dir, extra_args=["--no-timers", "--no-queues"], log_file=log, drop_env=("DEVHOST_",)
    ):
        pass
    text = log.read_text(encoding="utf-8")
    assert "keys.json" in text
    assert FUNCTION_KEY not in text and MASTER_KEY not in text


# Least privilege in URLs ------------------------------------------------------------------


def test_a_function_key_caller_gets_urls_with_the_system_key_only(devhost: DevHost) -> None:
    response = requests.post(devhost.url("start/chaining"), json="least", timeout=30)
    assert response.status_code == 202
    links = response.json()
    urls = {name: url for name, url in links.items() if name != "id"}
    assert urls and response.headers["Location"] == links["statusQueryGetUri"]
    for name, url in urls.items():
        assert MASTER_KEY not in url, f"{name} carries the master key"
        assert parse_qs(urlsplit(url).query)["code"] == [devhost.system_key], name
    binding = devhost.client_binding()
    assert MASTER_KEY not in binding and FUNCTION_KEY not in binding
    assert json.loads(binding)["requiredQueryStringParameters"] == f"code={devhost.system_key}"
    status = wait_status(devhost, links["id"])  # the URL as handed out works
    assert status["runtimeStatus"] == "Completed"
    # The system key opens the Durable API and nothing else.
    system = {"code": devhost.system_key}
    admin = requests.get(f"{devhost.base_url}/admin/host/status", params=system, timeout=30)
    assert admin.status_code == 401
    trigger = requests.get(f"{devhost.base_url}/api/instances", params=system, timeout=30)
    assert trigger.status_code == 401


@pytest.mark.parametrize("prefix", ["/runtime/webhooks/durabletask", "/durabletask"])
def test_durable_routes_need_the_system_or_master_key(devhost: DevHost, prefix: str) -> None:
    url = f"{devhost.base_url}{prefix}/instances/"
    bare = requests.get(url, timeout=30)
    assert bare.status_code == 401
    assert "system key" in bare.json()["Message"]
    assert requests.get(url, params={"code": FUNCTION_KEY}, timeout=30).status_code == 401
    assert requests.get(url, params={"code": "wrong"}, timeout=30).status_code == 401
    assert requests.get(url, params={"code": devhost.system_key}, timeout=30).status_code == 200
    by_header = requests.get(url, headers={"x-functions-key": MASTER_KEY}, timeout=30)
    assert by_header.status_code == 200


def test_the_rpc_listener_is_loopback_only_and_serves_the_durable_api_only(
    devhost: DevHost,
) -> None:
    rpc = urlsplit(devhost.rpc_base_url)
    assert rpc.hostname == "127.0.0.1" and rpc.port != devhost.port
    assert json.loads(devhost.client_binding())["rpcBaseUrl"] == devhost.rpc_base_url
    assert requests.get(f"{devhost.rpc_base_url}instances/", timeout=30).status_code == 200
    other = requests.get(f"http://127.0.0.1:{rpc.port}/api/ping", timeout=30)
    assert other.status_code == 404
    admin = f"http://127.0.0.1:{rpc.port}/admin/host/status"
    assert requests.get(admin, params={"code": MASTER_KEY}, timeout=30).status_code == 404


# Request bodies and limits ----------------------------------------------------------------


def test_a_chunked_body_is_read(devhost: DevHost) -> None:
    chunks = iter([b'"chun', b"ky-", b'body"'])  # requests sends an iterator chunked
    response = requests.post(devhost.url("start/chaining"), data=chunks, timeout=30)
    assert response.status_code == 202, response.text
    status = wait_status(devhost, response.json()["id"])
    assert status["runtimeStatus"] == "Completed"
    assert "chunky-body-1" in json.dumps(status["output"])


def test_a_chunked_body_with_extensions_and_trailers(devhost: DevHost) -> None:
    body = b'5;ext=1\r\n"trai\r\n4\r\nler"\r\n0\r\nX-Trailer: yes\r\n\r\n'
    raw = (
        b"POST " + urlsplit(devhost.rpc_base_url).path.encode() + b"orchestrators/chaining "
        b"HTTP/1.1\r\nHost: devhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ) + body
    status, _, payload = exchange(devhost.rpc_base_url, raw)
    assert status == 202, payload
    assert wait_status(devhost, payload["id"])["input"] == "trailer"


def test_a_content_length_of_a_terabyte_is_413(devhost: DevHost) -> None:
    raw = start_request("Content-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n")
    status, headers, payload = exchange(devhost.base_url, raw)
    assert status == 413
    assert headers["content-type"].startswith("application/json")
    assert payload["Message"] == (
        f"Request body too large. The max request body size is {DEFAULT_MAX_BODY} bytes "
        "(FUNCTIONS_REQUEST_BODY_SIZE_LIMIT)."
    )
    assert headers["connection"] == "close"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Content-Length: abc", "The Content-Length header must be one number of bytes."),
        ("Content-Length: -5", "The Content-Length header must be one number of bytes."),
        ("Content-Length: \u00b2", "The Content-Length header must be one number of bytes."),
        (
            "Content-Length: 3\r\nContent-Length: 4",
            "The Content-Length header must be one number of bytes.",
        ),
        (
            "Transfer-Encoding: gzip",
            "The final transfer coding of Transfer-Encoding must be 'chunked'.",
        ),
    ],
)
def test_a_malformed_body_framing_is_400(devhost: DevHost, header: str, message: str) -> None:
    status, _, payload = exchange(devhost.base_url, start_request(f"{header}\r\n\r\n"))
    assert (status, payload["Message"]) == (400, message)


def test_bad_chunk_framing_is_400(devhost: DevHost) -> None:
    raw = start_request("Transfer-Encoding: chunked\r\n\r\nzz\r\n")
    status, _, payload = exchange(devhost.base_url, raw)
    assert (status, payload["Message"]) == (400, "Bad chunk size in the chunked request body.")


def test_the_servers_own_refusals_are_json(devhost: DevHost) -> None:
    status, headers, payload = exchange(devhost.base_url, b"NONSENSE\r\n\r\n")
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    assert payload["Message"]


LIMITS = RequestLimits(
    max_body_bytes=1000,
    headers_timeout=1.0,
    keep_alive_timeout=2.0,
    min_body_rate=1000.0,
    body_grace=0.5,
)


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevHost]:
    """The test app with small request limits, so that each one is quick to reach."""
    root = tmp_path_factory.mktemp("limits")
    app_dir = copy_app(root / "app")
    with DevHost(app_dir, port=0, state_dir=root / "state", queues=False, limits=LIMITS) as host:
        yield host


def test_a_body_over_the_limit_is_413_chunked_or_not(strict: DevHost) -> None:
    fits = json.dumps("x" * 998)  # 1000 bytes
    assert len(fits) == 1000
    assert requests.post(strict.url("start/chaining"), data=fits, timeout=30).status_code == 202
    over = requests.post(strict.url("start/chaining"), data=fits + " ", timeout=30)
    assert over.status_code == 413
    assert "max request body size is 1000 bytes" in over.json()["Message"]
    chunks = iter([fits.encode(), b" "])
    chunked = requests.post(strict.url("start/chaining"), data=chunks, timeout=30)
    assert chunked.status_code == 413
    assert "max request body size is 1000 bytes" in chunked.json()["Message"]


def test_the_body_limit_comes_from_the_functions_setting() -> None:
    host = DevHost(APP_DIR, values={"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": "4096"})
    assert host.limits.max_body_bytes == 4096
    assert DevHost(APP_DIR).limits.max_body_bytes == 104_857_600
    for bad in ("lots", "0", "\u00b2", "-1"):
        with pytest.raises(SettingsError, match="FUNCTIONS_REQUEST_BODY_SIZE_LIMIT is "):
            DevHost(APP_DIR, values={"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": bad})


def test_slow_headers_are_answered_408_and_dropped(strict: DevHost) -> None:
    started = time.monotonic()
    with connect(strict.base_url) as sock:
        sock.sendall(b"GET /api/ping HTTP/1.1\r\nHost: devhost\r\n")
        answered = False
        while time.monotonic() - started < 10:  # one header byte every 0.2 s (slowloris)
            try:
                sock.sendall(b"X")
            except OSError:
                break
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable:
                answered = True
                break
        elapsed = time.monotonic() - started
        assert answered, "devhost waited 10 s for the headers"
        status, _, body = read_response(sock)
        assert status == 408
        assert json.loads(body)["Message"] == "The request headers did not arrive within 1 s."
        assert closed_within(sock, 5)
    assert elapsed < LIMITS.headers_timeout + 2


def test_a_slow_body_is_answered_408_and_dropped(strict: DevHost) -> None:
    started = time.monotonic()
    with connect(strict.base_url) as sock:
        sock.sendall(start_request('Content-Length: 100\r\n\r\n"only a little'))
        status, _, body = read_response(sock)
        elapsed = time.monotonic() - started
        assert status == 408
        assert "arrived too slowly" in json.loads(body)["Message"]
        assert closed_within(sock, 5)
    assert elapsed < 3


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(strict: DevHost) -> None:
    started = time.monotonic()
    with connect(strict.base_url) as sock:
        assert closed_within(sock, LIMITS.keep_alive_timeout + 3)
    assert time.monotonic() - started >= LIMITS.keep_alive_timeout - 0.5


def test_keep_alive_requests_still_work_under_the_limits(strict: DevHost) -> None:
    with requests.Session() as session:
        for _ in range(3):
            response = session.get(f"{strict.base_url}/api/ping?name=again", timeout=30)
            assert response.status_code == 200 and response.text == "pong again"
