"""The cost of one call through the Python binding (ctypes), without network.

    PYTHONPATH=bindings/python/src UMS_LIBRARY=target/release/libums.so \\
        python3 benches/python/bench_binding.py

Times ums_sign_body on a 7-byte body with a fixed timestamp and nonce (the
call benches/c/bench_c.c times in C), four ways, so the overhead can be
split:

  py.sign_body.public        Client.sign_body(): the public API (argument
                             checks, the close() guard, a fresh 64 KiB
                             buffer, the call, json.loads of the result)
  py.sign_body.call_raw      _native.call_raw(): buffer + call + decode, no
                             JSON parse, no close() guard
  py.sign_body.raw_newbuf    the bare ctypes call with a fresh
                             create_string_buffer(65536) per call
  py.sign_body.raw           the bare ctypes call with a buffer made once
  py.sign_body.proposed      what Client.sign_body() would cost with the
                             change proposed in BENCHMARKS.md: same checks,
                             same close() guard without @contextmanager, a
                             per-thread buffer reused instead of a fresh
                             zero-filled 64 KiB one, same json.loads

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

    # The proposal, written against the same library calls.
    local = threading.local()

    def proposed_call(fn, *args):
        buf = getattr(local, "buf", None)
        if buf is None:
            buf = ctypes.create_string_buffer(cap)
        local.buf = None  # in use: a call made from a log callback gets its own
        try:
            out_len = ctypes.c_size_t(0)
            status = fn(*args, buf, cap, ctypes.byref(out_len))
            if status == _native.UMS_ERR_BUFFER_TOO_SMALL:
                return _native.call(fn, *args)  # the rare big answer: as today
            text = ctypes.string_at(buf, out_len.value).decode("utf-8", "replace")
        finally:
            local.buf = buf
        doc = json.loads(text)
        if status != 0:
            raise chinaums.errors.error_from_status(status, doc)
        return doc

    def proposed_sign_body(body, timestamp=None, nonce=None):
        data = body if isinstance(body, bytes) else bytes(body)
        ts_arg = timestamp.encode("utf-8") if timestamp is not None else None
        nonce_arg = nonce.encode("utf-8") if nonce is not None else None
        if (ts_arg and b"\0" in ts_arg) or (nonce_arg and b"\0" in nonce_arg):
            raise ValueError("NUL")
        cond = client._cond
        with cond:
            if client._handle is None or client._closing:
                raise chinaums.errors.ClientClosedError()
            client._active += 1
            h = client._handle
        try:
            return proposed_call(fn, h, data, len(data), ts_arg, nonce_arg)
        finally:
            with cond:
                client._active -= 1
                if not client._active:
                    cond.notify_all()

    def proposed():
        return proposed_sign_body(BODY, TS, NONCE)

    assert raw() == 0
    assert json.loads(buf.value.decode())["authorization"] == expected
    assert call_raw()[0] == 0
    assert proposed()["authorization"] == expected

    rows = [("py.sign_body.raw", raw), ("py.sign_body.raw_newbuf", raw_newbuf),
            ("py.sign_body.call_raw", call_raw), ("py.sign_body.public", public),
            ("py.sign_body.proposed", proposed), ("py.loop_overhead", lambda: None)]
    for (name, _), ns in zip(rows, interleaved_ns([fn for _, fn in rows])):
        row_ns(name, ns)
    client.close()


if __name__ == "__main__":
    main()
