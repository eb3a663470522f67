"""Shared test helpers: paths, library location, the ums-sandbox simulator,
dates, and small local servers that misbehave on purpose (no network beyond
127.0.0.1)."""

import atexit
import datetime
import json
import os
import socket
import subprocess
import sys
import threading
import unittest
import urllib.error
import urllib.request
from typing import IO, Any, Callable, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
BINDING = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(BINDING))
SRC = os.path.join(BINDING, "src")
VECTORS = os.path.join(REPO, "tests", "data", "vectors.json")
HEADER = os.path.join(REPO, "include", "ums.h")
EXAMPLES = os.path.join(REPO, "examples", "python")
README = os.path.join(BINDING, "README.md")

os.environ.setdefault("UMS_LIBRARY", os.path.join(REPO, "target", "release", "libums.so"))
if SRC not in sys.path:
    sys.path.insert(0, SRC)

# The simulator's demo app (public values, printed by ums-sandbox itself).
DEMO_APP_ID = "10037e6f66f2d0f901672aa27d690006"
DEMO_APP_KEY = "47ace12ae3b348fe93ab46cee97c6fde"
DEMO_NOTIFY_KEY = "fcAmtnx7MwismjWNhNKdHC44mNXtnEQeJkRrhKJwyrW2ysRR"
MSG_SRC = "WWW.TEST.COM"
MSG_SRC_ID = "3194"
MID = "898340149000005"
SECOND_MID = "898340149000006"
TID = "00000001"
SEED_QR = "31942002267733902130410550"
BEIJING = datetime.timezone(datetime.timedelta(hours=8))
PRODUCTION_URL = "https://api-mop.chinaums.com"

# The first line ums-sandbox prints on stdout.
LISTENING = "ums-sandbox listening on "


def sandbox_binary() -> str:
    """$UMS_SANDBOX (the Makefile exports it), else target/release/ums-sandbox."""
    return os.environ.get("UMS_SANDBOX") or os.path.join(REPO, "target", "release", "ums-sandbox")


def _die_with_parent() -> Optional[Callable[[], None]]:
    """On Linux, a child started from the main thread gets SIGTERM when this
    process dies, even by SIGKILL (atexit then never runs). Not from other
    threads: the signal follows the thread that started the child."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        import ctypes
        import signal
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def set_death_signal() -> None:  # runs in the child, before exec
        prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent is already gone
            os._exit(1)

    return set_death_signal


class Simulator:
    """One ``ums-sandbox --port 0`` process: started by the constructor, which
    returns once the simulator printed its URL (a blocking read of its first
    stdout line: it listens before it prints); ``stop()`` ends it."""

    # A guard against a simulator that never prints (not a synchronisation).
    START_TIMEOUT = 30.0

    def __init__(self, *args: str) -> None:
        binary = sandbox_binary()
        if not os.path.isfile(binary):
            raise RuntimeError("the simulator was not found at %s: run `make lib` (it builds "
                               "target/release/ums-sandbox) or set UMS_SANDBOX" % binary)
        self.process = subprocess.Popen([binary, "--port", "0", "--quiet", *args], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        preexec_fn=_die_with_parent())
        guard = threading.Timer(self.START_TIMEOUT, self.process.kill)
        guard.daemon = True
        guard.start()
        try:
            assert self.process.stdout is not None
            first = self.process.stdout.readline().decode("utf-8", "replace").strip()
        finally:
            guard.cancel()
        if not first.startswith(LISTENING + "http://127.0.0.1:"):
            self.stop()
            assert self.process.stderr is not None
            problem = self.process.stderr.read().decode("utf-8", "replace").strip()
            raise RuntimeError("%s did not start (first line %r): %s" % (binary, first, problem))
        self.url = first[len(LISTENING):].split()[0]
        # The banner (and anything later) is read away, so the simulator can
        # never block on a full pipe.
        self._drain = threading.Thread(target=self._read_away, args=(self.process.stdout,),
                                       daemon=True)
        self._drain.start()

    @staticmethod
    def _read_away(stream: IO[bytes]) -> None:
        try:
            while stream.read(65536):
                pass
        except (OSError, ValueError):
            pass

    def stop(self) -> None:
        """Ends the process (idempotent) and waits for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    def __enter__(self) -> "Simulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def config(self, **extra: object) -> dict:
        return demo_config(self.url, **extra)


_shared: Optional[Simulator] = None
_shared_lock = threading.Lock()


def simulator() -> Simulator:
    """The simulator shared by the whole test run: started on first use,
    stopped when the process exits."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Simulator()
            atexit.register(_shared.stop)
        return _shared


def sandbox_url() -> str:
    """The shared simulator's base URL, ``http://127.0.0.1:PORT``."""
    return simulator().url


def demo_config(url: str, **extra: object) -> dict:
    """A client of the simulator at ``url`` with its demo app and merchant."""
    config: dict = {"environment": url, "appId": DEMO_APP_ID, "appKey": DEMO_APP_KEY,
                    "msgSrc": MSG_SRC, "msgSrcId": MSG_SRC_ID, "mid": MID, "tid": TID}
    config.update(extra)
    return config


def sandbox_config(**extra: object) -> dict:
    """A client of the shared simulator with its demo app and merchant."""
    return demo_config(sandbox_url(), **extra)


class SandboxClientTestCase(unittest.TestCase):
    """One client of the shared simulator per test class, closed after it."""

    client: Any  # a chinaums.Client (imported in setUpClass, once sys.path is set)

    @classmethod
    def setUpClass(cls) -> None:
        import chinaums
        cls.client = chinaums.Client(sandbox_config())

    @classmethod
    def tearDownClass(cls) -> None:
        cls.client.close()


def today() -> str:
    return datetime.datetime.now(BEIJING).strftime("%Y-%m-%d")


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
    """This process's environment with PYTHONPATH reaching the package; the
    ``UMS_*`` configuration variables only as given in ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("UMS_") or k in ("UMS_LIBRARY", "UMS_SANDBOX")}
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
