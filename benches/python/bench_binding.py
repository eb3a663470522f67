"""The cost of one call through the Python binding (ctypes), without network.

    PYTHONPATH=bindings/python/src UMS_LIBRARY=target/release/libums.so \\
        python3 benches/python/bench_binding.py

Times ums_sign_body on a 7-byte body with a fixed timestamp and nonce (the
call benches/c/bench_c.c times in C), four ways, so the overhead can be
split:

  py.sign_body.public        Client.sign_body(): the public API (argument
                             checks, the close() guard, the thread's kept
                             buffer, the call, decoding the result)
  py.sign_body.call_raw      _native.call_raw(): buffer + call + decode, no
                             JSON parse, no close() guard
  py.sign_body.raw_newbuf    the bare ctypes call with a fresh
                             create_string_buffer(65536) per call
  py.sign_body.raw           the bare ctypes call with a buffer made once
  py.sign_body.decode        decoding the result document into a dict
                             alone (what the public API does after the call)

The rows take turns batch by batch (see _timing.interleaved_ns). Prints
JSON lines {"row":..,"median_ns":..}.
"""

import ctypes
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import interleaved_ns, row_ns  # noqa: E402

import chinaums  # noqa: E402
from chinaums import _native  # noqa: E402

APP_ID = "10037e6f66f2d0f901672aa27d690006"
APP_KEY = "47ace12ae3b348fe93ab46cee97c6fde"
TS = "20261127120000"
NONCE = "0123456789abcdef0123456789abcdef"
BODY = b'{"a":1}'


def main():
    client = chinaums.Client({"environment": "https://gateway.invalid",
                              "appId": APP_ID, "appKey": APP_KEY})
    expected = client.sign_body(BODY, TS, NONCE)["authorization"]

    lib = _native.library()
    fn = lib.ums_sign_body
    handle = client._handle  # the raw handle, for the bare ctypes rows only
    ts, nonce = TS.encode(), NONCE.encode()
    cap = _native.initial_buffer_size
    buf = ctypes.create_string_buffer(cap)
    length = ctypes.c_size_t(0)
    length_ref = ctypes.byref(length)
    n = len(BODY)

    def raw():
        return fn(handle, BODY, n, ts, nonce, buf, cap, length_ref)

    def raw_newbuf():
        b = ctypes.create_string_buffer(cap)
        return fn(handle, BODY, n, ts, nonce, b, cap, ctypes.byref(length))

    def call_raw():
        return _native.call_raw(fn, handle, BODY, n, ts, nonce)

    def public():
        return client.sign_body(BODY, TS, NONCE)

    text = _native.call_raw(fn, handle, BODY, n, ts, nonce)[1]

    def decode():
        return _native._raw_decode(text)

    assert raw() == 0
    assert json.loads(buf.value.decode())["authorization"] == expected
    assert call_raw()[0] == 0
    assert decode()[0]["authorization"] == expected

    rows = [("py.sign_body.raw", raw), ("py.sign_body.raw_newbuf", raw_newbuf),
            ("py.sign_body.call_raw", call_raw), ("py.sign_body.public", public),
            ("py.sign_body.decode", decode), ("py.loop_overhead", lambda: None)]
    for (name, _), ns in zip(rows, interleaved_ns([fn for _, fn in rows])):
        row_ns(name, ns)
    client.close()


if __name__ == "__main__":
    main()
