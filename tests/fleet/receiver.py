"""One notification receiver of the fleet test (tests/fleet/run.py): an HTTP
server on 127.0.0.1 in its own process, with a client of the Python binding
(libums through the ABI) in token mode whose claims are in Redis.

    python3 receiver.py ID          environment: FLEET_CONFIG (JSON text)

Prints "listening PORT", then for every POST:
  - verifies the raw body with the client's notifyKey (ums_client_verify_notify);
    a notification that does not verify: "rejected <status>", answer FAILED;
  - claims its notifyId (ums_notify_claim, shared by every receiver through
    the claim store): the first claim prints "processed <notifyId>
    store=<redis|memory> <billNo>" (the one and only processing), a later
    one "duplicate <notifyId> store=<redis|memory>";
    both answer SUCCESS (ChinaUMS stops retrying).
Each line is written before the answer is sent. Exits 0 at the end of stdin.
"""

import ctypes
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from chinaums import Client, _native
from chinaums.errors import UmsError

OUT_LOCK = threading.Lock()


def say(text):
    with OUT_LOCK:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def claim(client, notify_id):
    """(claimed, store): claimed is true for the first claim of `notify_id`
    across the fleet; store is where the answer came from ("redis", or
    "memory" while Redis fails)."""
    method = getattr(client, "notify_claim", None)
    if method is not None:  # the binding's own method, once it has one
        answer = method(notify_id)
    else:
        # ums.h: UmsStatus ums_notify_claim(const UmsClient *client, const
        # char *notify_id, char *out_buf, size_t out_cap, size_t *out_len),
        # document {"claimed":true|false,"store":"redis"|"memory"}.
        lib = _native.library()
        fn = lib.ums_notify_claim
        fn.restype = ctypes.c_int32
        fn.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t,
                       ctypes.POINTER(ctypes.c_size_t)]
        with client._borrow() as handle:
            answer = _native.call(fn, handle, notify_id.encode("utf-8"))
    return bool(answer["claimed"]), str(answer.get("store"))


def main(argv):
    if len(argv) != 1 or "FLEET_CONFIG" not in os.environ:
        say("fatal usage: receiver.py ID (FLEET_CONFIG set)")
        return 1
    client = Client(json.loads(os.environ["FLEET_CONFIG"]))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, text):
            data = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            try:
                verified = client.verify_notify(body)
            except UmsError as e:
                say("rejected %s" % e.status_name)
                self.answer(client.notify_reply(False))
                return
            notify_id = verified.get("notifyId") or verified["fields"]["notifyId"]
            try:
                first, store = claim(client, notify_id)
            except UmsError as e:
                say("claim-failed %s %s" % (notify_id, e.status_name))
                self.answer(client.notify_reply(False))
                return
            if first:
                say("processed %s store=%s %s" % (notify_id, store, verified["fields"].get("billNo", "?")))
            else:
                say("duplicate %s store=%s" % (notify_id, store))
            self.answer(client.notify_reply(True))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    say("listening %d" % server.server_address[1])
    sys.stdin.read()  # until the orchestrator closes our stdin
    server.shutdown()
    server.server_close()
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
