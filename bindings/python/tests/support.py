"""Shared test helpers: paths, library location, dates, and small local
servers that misbehave on purpose (no network beyond 127.0.0.1)."""

import datetime
import json
import os
import socket
import sys
import threading
import urllib.error
import urllib.request
from typing import Callable, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
BINDING = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(BINDING))
SRC = os.path.join(BINDING, "src")
VECTORS = os.path.join(REPO, "tests", "data", "vectors.json")
HEADER = os.path.join(REPO, "include", "ums.h")
EXAMPLES = os.path.join(REPO, "examples", "python")

os.environ.setdefault("UMS_LIBRARY", os.path.join(REPO, "target", "release", "libums.so"))
if SRC not in sys.path:
    sys.path.insert(0, SRC)

DEMO_APP_ID = "10037e6f66f2d0f901672aa27d690006"
DEMO_APP_KEY = "47ace12ae3b348fe93ab46cee97c6fde"
DEMO_NOTIFY_KEY = "fcAmtnx7MwismjWNhNKdHC44mNXtnEQeJkRrhKJwyrW2ysRR"
MID = "898340149000005"
TID = "00000001"
SEED_QR = "31942002267733902130410550"
BEIJING = datetime.timezone(datetime.timedelta(hours=8))


def today() -> str:
    return datetime.datetime.now(BEIJING).strftime("%Y-%m-%d")


def sandbox_config(**extra: object) -> dict:
    config = {"environment": "sandbox", "mid": MID, "tid": TID}
    config.update(extra)
    return config


def sandbox_stats(base_url: str) -> dict:
    """The simulator's request counters (GET /_sandbox/stats, loopback only)."""
    with urllib.request.urlopen(base_url + "/_sandbox/stats", timeout=5) as r:
        return json.loads(r.read().decode("utf-8"))


def sandbox_post(base_url: str, path: str, body: dict) -> tuple:
    """POSTs JSON to a simulator control endpoint; (HTTP status, parsed body)."""
    data = json.dumps(body).encode("utf-8")
    request = urllib.request.Request(base_url + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, json.loads(r.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode("utf-8") or "{}")


def subprocess_env(**extra: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


class TcpServer:
    """A one-purpose TCP server on 127.0.0.1: ``handler(conn)`` runs for every
    accepted connection in its own thread. ``requests`` collects what the
    handler chose to record."""

    def __init__(self, handler: Callable[["TcpServer", socket.socket], None]) -> None:
        self.handler = handler
        self.requests: List[bytes] = []
        self.received = threading.Event()
        self.release = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            self.handler(self, conn)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        self._stop = True
        self.release.set()
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "TcpServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_http_request(conn: socket.socket) -> Optional[bytes]:
    """Reads one HTTP request (head and Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def http_answer(status: int, body: bytes) -> bytes:
    return (b"HTTP/1.1 %d X\r\nContent-Type: application/json;charset=UTF-8\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (status, len(body))) + body


def json_server(answer: dict, delay_until_released: bool = False) -> TcpServer:
    """Answers every request with ``answer`` (HTTP 200), recording requests.
    With ``delay_until_released`` it waits for ``server.release`` first."""
    body = json.dumps(answer, ensure_ascii=False).encode("utf-8")

    def handler(server: TcpServer, conn: socket.socket) -> None:
        request = read_http_request(conn)
        if request is None:
            return
        server.requests.append(request)
        server.received.set()
        if delay_until_released:
            server.release.wait(10)
        conn.sendall(http_answer(200, body))

    return TcpServer(handler)


def hang_up_server() -> TcpServer:
    """Reads the whole request, then closes without a word."""
    def handler(server: TcpServer, conn: socket.socket) -> None:
        request = read_http_request(conn)
        if request is not None:
            server.requests.append(request)
            server.received.set()

    return TcpServer(handler)


def garbage_server() -> TcpServer:
    """Not TLS: reads the ClientHello, answers plain text, waits for the
    client to give up (so the client reads the text, never a reset)."""
    def handler(server: TcpServer, conn: socket.socket) -> None:
        if not conn.recv(65536):
            return
        server.received.set()
        conn.sendall(b"HTTP/1.1 400 this is not TLS\r\n\r\n")
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(65536):
            pass

    return TcpServer(handler)


def local_config(port: int, **extra: object) -> dict:
    """A client of a local misbehaving server (http:// is allowed for loopback)."""
    config = {"environment": "http://127.0.0.1:%d" % port, "appId": DEMO_APP_ID,
              "appKey": DEMO_APP_KEY, "mid": MID, "tid": TID, "timeoutMs": 5000}
    config.update(extra)
    return config
