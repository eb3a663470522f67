"""The one notifyUrl of the fleet test's receivers (tests/fleet/run.py): a
loopback HTTP relay that spreads incoming POSTs round-robin over the
receivers, like a load balancer in front of several machines.

    python3 relay.py DROP PORT1 PORT2 ...

Prints "listening PORT". For each POST it forwards the body (same
Content-Type) to the next receiver and reads its answer. The first DROP
attempts of each notifyId then lose that answer: the relay closes the
simulator's connection without answering, as a dying proxy would, so the
simulator retries (to another receiver). Later attempts get the receiver's
answer. One line per attempt, once it is settled:

    attempt <notifyId> <n> receiver=<i> reply=<text> dropped|answered

("answered" is printed after the simulator has closed the connection,
that is after it has read and recorded the answer). Exits 0 at the end of
stdin.
"""

import http.client
import socket
import socketserver
import sys
import threading
import urllib.parse

OUT_LOCK = threading.Lock()
STATE_LOCK = threading.Lock()


def say(text):
    with OUT_LOCK:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def read_request(sock):
    """(head, body) of one HTTP request, or None at end of input."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return headers, body[:length]


def main(argv):
    drop = int(argv[0])
    ports = [int(p) for p in argv[1:]]
    state = {"next": 0, "attempts": {}}

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            sock = self.request
            sock.settimeout(10)
            try:
                request = read_request(sock)
            except OSError:
                return
            if request is None:
                return
            headers, body = request
            notify_id = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("notifyId", ["?"])[0]
            with STATE_LOCK:
                index = state["next"] % len(ports)
                state["next"] += 1
                n = state["attempts"].get(notify_id, 0) + 1
                state["attempts"][notify_id] = n
            conn = http.client.HTTPConnection("127.0.0.1", ports[index], timeout=10)
            try:
                conn.request("POST", "/notify", body=body,
                             headers={"Content-Type": headers.get("content-type", "")})
                response = conn.getresponse()
                reply = response.read().decode("utf-8", "replace").strip()
            except OSError as e:
                reply = "error:%s" % type(e).__name__
            finally:
                conn.close()
            if n <= drop:
                sock.close()
                say("attempt %s %d receiver=%d reply=%s dropped" % (notify_id, n, index, reply))
                return
            data = reply.encode()
            try:
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(data), data))
                if reply == "SUCCESS":
                    # The simulator closes the connection once it is done
                    # with the notification (the answer recorded): wait for
                    # that, bounded by the timeout.
                    while sock.recv(4096):
                        pass
            except (OSError, socket.timeout):
                pass
            finally:
                sock.close()
            say("attempt %s %d receiver=%d reply=%s answered" % (notify_id, n, index, reply))

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    say("listening %d" % server.server_address[1])
    sys.stdin.read()  # until the orchestrator closes our stdin
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
