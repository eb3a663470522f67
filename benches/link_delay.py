"""A delay line for scripts/bench-link when the kernel has no `tc netem`:
a TCP relay on 127.0.0.1 that holds every chunk for ONE_WAY_MS in each
direction, and holds a new connection's first bytes for one round trip
(what the TCP handshake costs on a real link; the clients here all speak
first: TLS ClientHello, HTTP request).

    python3 benches/link_delay.py TARGET_HOST:PORT ONE_WAY_MS

Prints "link-delay listening on 127.0.0.1:PORT" and relays until killed.
A keep-alive exchange then pays one round trip (2 x ONE_WAY_MS), a new TLS
1.3 connection three (TCP, TLS, the request), as on a WAN link; bandwidth
and loss are not modelled.
"""

import queue
import socket
import sys
import threading
import time


def pump(src, dst, delay):
    """Copies src to dst, each chunk delivered `delay` seconds after it was read."""
    due = queue.Queue()

    def deliver():
        while True:
            at, data = due.get()
            wait = at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                if data is None:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(data)
            except OSError:
                return

    writer = threading.Thread(target=deliver, daemon=True)
    writer.start()
    while True:
        try:
            data = src.recv(65536)
        except OSError:
            data = b""
        due.put((time.monotonic() + delay, data or None))
        if not data:
            break
    writer.join()


def serve(client, target, delay):
    time.sleep(2 * delay)  # the TCP handshake's round trip
    try:
        upstream = socket.create_connection(target)
    except OSError:
        client.close()
        return
    for s in (client, upstream):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pumps = [threading.Thread(target=pump, args=(client, upstream, delay), daemon=True),
             threading.Thread(target=pump, args=(upstream, client, delay), daemon=True)]
    for p in pumps:
        p.start()
    for p in pumps:
        p.join()
    client.close()
    upstream.close()


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    delay = float(sys.argv[2]) / 1000.0
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    print("link-delay listening on 127.0.0.1:%d" % listener.getsockname()[1], flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, (host, int(port)), delay), daemon=True).start()


if __name__ == "__main__":
    main()
