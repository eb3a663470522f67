"""Loading libums and calling it through ctypes.

The library is loaded on first use (not at import), so ``chinaums.errors``
and the documentation work without it. Search order:

1. the ``UMS_LIBRARY`` environment variable (a path),
2. ``libums.so`` next to this package,
3. the system search path (``ctypes.util.find_library("ums")``, then
   ``libums.so.0`` and ``libums.so`` through the dynamic loader).

A library whose ``ums_version()`` is not 0.1.x is refused.
"""

import ctypes
import ctypes.util
import json
import os
import threading
from ctypes import POINTER, c_char, c_char_p, c_int32, c_size_t, c_void_p
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import (
    InternalError,
    UmsLibraryNotFound,
    UmsLibraryVersionError,
    error_from_status,
)

# The ABI version this binding was written for (ums.h UMS_VERSION_MAJOR/MINOR).
EXPECTED_VERSION = (0, 1)

UMS_OK = 0
UMS_ERR_BUFFER_TOO_SMALL = 4
# ums.h UMS_MIN_OUT_CAP: operations refuse (send nothing) with less room.
UMS_MIN_OUT_CAP = 256

# First buffer for every call (operations: at least UMS_MIN_OUT_CAP). A
# bigger result costs one more call: for a local call the same call with a
# bigger buffer (nothing is sent); for an operation ums_take_answer, which
# hands over the answer the library kept for this very call (the operation
# is never called again). Tests lower it to exercise those paths.
initial_buffer_size = 64 * 1024

_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None

_OUT = [POINTER(c_char), c_size_t, POINTER(c_size_t)]

# The operation exports of ums.h (`ums_<name>(client, request_json, out_buf,
# out_cap, out_len)`), in header order; each is the Client method of the same
# name. tests/test_header.py fails when this list drifts from include/ums.h.
OPERATIONS: Tuple[str, ...] = (
    "update_qrcode",
    "get_qrcode",
    "close_qrcode",
    "query_bill",
    "refund",
    "query_qrcode_info",
    "preauth_complete",
    "preauth_cancel",
    "secure_cancel",
    "secure_complete",
)

# typedef void (*UmsLogCallback)(void *userdata, int32_t level, const char *message);
LOG_CALLBACK = ctypes.CFUNCTYPE(None, c_void_p, c_int32, c_char_p)

# UmsTokenStore of ums.h: userdata and the get / put / invalidate callbacks.
TOKEN_STORE_GET = ctypes.CFUNCTYPE(ctypes.c_int, c_void_p, ctypes.POINTER(c_char), c_size_t,
                                   ctypes.POINTER(c_size_t), ctypes.POINTER(ctypes.c_int64))
TOKEN_STORE_PUT = ctypes.CFUNCTYPE(ctypes.c_int, c_void_p, c_char_p, ctypes.c_int64)
TOKEN_STORE_INVALIDATE = ctypes.CFUNCTYPE(ctypes.c_int, c_void_p, c_char_p)


class TokenStore(ctypes.Structure):
    """``struct UmsTokenStore`` (see ``ums_client_new_with_token_store``)."""

    _fields_ = [
        ("userdata", c_void_p),
        ("get", TOKEN_STORE_GET),
        ("put", TOKEN_STORE_PUT),
        ("invalidate", TOKEN_STORE_INVALIDATE),
    ]


def _declare(lib: ctypes.CDLL) -> None:
    """argtypes/restype of every export of ums.h."""
    def fn(name: str, restype: Any, *argtypes: Any) -> None:
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = list(argtypes)

    fn("ums_version", c_char_p)
    fn("ums_status_str", c_char_p, c_int32)
    fn("ums_notify_reply", c_char_p, c_int32)
    fn("ums_client_new", c_int32, c_char_p, POINTER(c_void_p), *_OUT)
    fn("ums_client_free", None, c_void_p)
    for op in OPERATIONS:
        fn("ums_" + op, c_int32, c_void_p, c_char_p, *_OUT)
    fn("ums_call", c_int32, c_void_p, c_char_p, c_char_p, *_OUT)
    fn("ums_prepare", c_int32, c_void_p, c_char_p, c_char_p, c_char_p, c_char_p, *_OUT)
    fn("ums_new_id", c_int32, c_void_p, *_OUT)
    # Bodies are byte buffers with an explicit length (c_char_p accepts bytes
    # with NULs inside since the length is passed separately).
    fn("ums_verify_notify", c_int32, c_char_p, c_char_p, c_size_t, *_OUT)
    fn("ums_sign_body", c_int32, c_void_p, c_char_p, c_size_t, c_char_p, c_char_p, *_OUT)
    fn("ums_token_request", c_int32, c_void_p, c_char_p, c_char_p, *_OUT)
    fn("ums_set_log_callback", c_int32, LOG_CALLBACK, c_void_p, c_int32)
    fn("ums_take_answer", c_int32, c_void_p, c_char_p, *_OUT)
    fn("ums_client_verify_notify", c_int32, c_void_p, c_char_p, c_size_t, *_OUT)
    fn("ums_notify_claim", c_int32, c_void_p, c_char_p, *_OUT)
    fn("ums_notify_release", c_int32, c_void_p, c_char_p, *_OUT)
    fn("ums_resolve", c_int32, c_void_p, c_char_p, *_OUT)
    fn("ums_journal_pending", c_int32, c_void_p, *_OUT)
    fn("ums_client_new_with_token_store", c_int32, c_char_p, POINTER(TokenStore),
       POINTER(c_void_p), *_OUT)


def _candidates() -> Tuple[List[Tuple[str, str]], List[Tuple[str, str]]]:
    """(places to try as (description, dlopen argument), places already ruled out)."""
    tried: List[Tuple[str, str]] = []
    places: List[Tuple[str, str]] = []
    env = os.environ.get("UMS_LIBRARY")
    if env:
        places.append(("UMS_LIBRARY=" + env, env))
    else:
        tried.append(("UMS_LIBRARY", "not set"))
    beside = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libums.so")
    if os.path.exists(beside):
        places.append((beside, beside))
    else:
        tried.append((beside, "no such file"))
    found = ctypes.util.find_library("ums")
    if found:
        places.append(("system (find_library: %s)" % found, found))
    else:
        tried.append(('system: ctypes.util.find_library("ums")', "found nothing"))
    for name in ("libums.so.0", "libums.so"):
        places.append(("system dynamic loader: " + name, name))
    return places, tried


def _version_of(lib: ctypes.CDLL) -> str:
    lib.ums_version.restype = c_char_p
    lib.ums_version.argtypes = []
    raw = lib.ums_version()
    return raw.decode("utf-8", "replace") if raw else ""


def library() -> ctypes.CDLL:
    """The loaded, version-checked libums (loaded once per process)."""
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        places, tried = _candidates()
        for description, target in places:
            try:
                lib = ctypes.CDLL(target)
            except OSError as e:
                tried.append((description, str(e) or "could not be loaded"))
                continue
            if not hasattr(lib, "ums_version"):
                tried.append((description, "loaded, but it is not libums (no ums_version)"))
                continue
            version = _version_of(lib)
            parts = version.split(".")
            if tuple(parts[:2]) != tuple(str(v) for v in EXPECTED_VERSION):
                # A wrong library found first is a mistake to report, not to skip.
                raise UmsLibraryVersionError(target, version,
                                             "%d.%d" % EXPECTED_VERSION)
            _declare(lib)
            _lib, _lib_path = lib, target
            return lib
        raise UmsLibraryNotFound(tried)


def library_path() -> str:
    """Where the loaded libums came from (loads it if needed)."""
    library()
    assert _lib_path is not None
    return _lib_path


def version() -> str:
    """The version of the loaded libums, e.g. ``"0.1.0"``."""
    return _version_of(library())


def status_str(status: int) -> str:
    """The library's static description of a status."""
    raw = library().ums_status_str(status)
    return raw.decode("utf-8", "replace") if raw else ""


# Each thread keeps its output buffer, its length cell and a pointer to that
# cell: making a fresh zero-filled 64 KiB buffer per call cost more than the
# call itself.
_local = threading.local()


def _thread_state(cap: int) -> Tuple[Any, int, Any, Any]:
    """This thread's (buffer, capacity, length, pointer to length), taken out
    while in use: a call made meanwhile on this thread (from a log callback)
    makes its own."""
    state: Optional[Tuple[Any, int, Any, Any]] = _local.__dict__.pop("state", None)
    if state is None or state[1] != cap:
        length = c_size_t(0)
        state = (ctypes.create_string_buffer(cap), cap, length, ctypes.byref(length))
    return state


def call_raw(fn: Callable[..., int], *args: Any, minimum: int = 1) -> Tuple[int, str]:
    """Calls a local export (no network) that ends with (out_buf, out_cap,
    out_len); returns its status and document. On BUFFER_TOO_SMALL it calls
    again with the same arguments and the size the library asked for
    (nothing was sent, so calling again is harmless). ``minimum``: the
    smallest buffer to start with (UMS_MIN_OUT_CAP for the notification
    claims, which do nothing with less)."""
    state = _thread_state(max(minimum, int(initial_buffer_size)))
    buf, cap, length, length_ref = state
    try:
        for _ in range(4):
            length.value = 0
            status = fn(*args, buf, cap, length_ref)
            size = length.value
            if status == UMS_ERR_BUFFER_TOO_SMALL and size + 1 > cap:
                cap = size + 1
                buf = ctypes.create_string_buffer(cap)
                continue
            if size >= cap:
                raise InternalError(98, {"message": "libums reported a document longer than the buffer"})
            # Slicing a char array copies just those bytes (string_at costs more).
            return status, buf[:size].decode("utf-8", "replace")
        raise InternalError(98, {"message": "libums kept asking for a bigger buffer"})
    finally:
        _local.state = state


def _parse_note(text: str) -> Dict[str, Any]:
    try:
        note = json.loads(text)
    except ValueError:
        note = None
    return note if isinstance(note, dict) else {}


def call_operation_raw(fn: Callable[..., int], handle: int, *args: Any) -> Tuple[int, str]:
    """Calls an operation export (one that may send a request):
    ``fn(handle, *args, out_buf, out_cap, out_len)``. The first buffer has at
    least UMS_MIN_OUT_CAP bytes. When the document does not fit, the library
    keeps it under an ``answerId`` (the request WAS sent): it is fetched with
    ``ums_take_answer`` and a buffer of the ``needed`` size, repeated with the
    same id while still too small. The operation is never called again: that
    would send a new request."""
    state = _thread_state(max(UMS_MIN_OUT_CAP, int(initial_buffer_size)))
    buf, cap, length, length_ref = state
    try:
        length.value = 0
        status = fn(handle, *args, buf, cap, length_ref)
        size = length.value
        if status != UMS_ERR_BUFFER_TOO_SMALL:
            if size >= cap:
                raise InternalError(98, {"message": "libums reported a document longer than the buffer"})
            return status, buf[:size].decode("utf-8", "replace")
        note = _parse_note(buf.value.decode("utf-8", "replace"))
    finally:
        _local.state = state
    answer_id = note.get("answerId")
    if not isinstance(answer_id, str) or not answer_id:
        raise InternalError(98, {
            "message": "libums reported BUFFER_TOO_SMALL for an operation without an answerId",
            "outcomeUnknown": True, "nothingSent": False, "phase": "sent"})
    lib = library()
    key = answer_id.encode("ascii")
    needed = note.get("needed")
    cap = needed if isinstance(needed, int) and needed > size else size + 1
    for _ in range(4):
        big = ctypes.create_string_buffer(cap)
        got = c_size_t(0)
        status = lib.ums_take_answer(handle, key, big, cap, ctypes.byref(got))
        if status == UMS_ERR_BUFFER_TOO_SMALL and got.value + 1 > cap:
            cap = got.value + 1  # same id: the answer stays kept until it fits
            continue
        if got.value >= cap:
            raise InternalError(98, {"message": "libums reported a document longer than the buffer"})
        return status, big.raw[:got.value].decode("utf-8", "replace")  # rare: copies the whole buffer
    raise InternalError(98, {"message": "libums kept asking for a bigger buffer for a kept answer",
                             "outcomeUnknown": True, "nothingSent": False, "phase": "sent"})


# The library writes exactly one JSON document: raw_decode skips json.loads's
# two whitespace regex passes (half its cost); the end is checked instead.
_raw_decode = json.JSONDecoder().raw_decode


def _document(status: int, text: str) -> Dict[str, Any]:
    """The parsed document of ``status``; a non-OK status raises the matching
    ``UmsError``."""
    doc: Any = None
    if not text:
        doc = {}
    else:
        try:
            doc, end = _raw_decode(text)
            if end != len(text):
                doc = None
        except ValueError:
            doc = None
    if status == UMS_OK:
        if not isinstance(doc, dict):
            raise InternalError(98, {"message": "libums returned a result that is not a JSON object"})
        return doc
    raise error_from_status(status, doc if isinstance(doc, dict) else {})


def raise_for(status: int, text: str) -> None:
    """Raises the ``UmsError`` of a non-OK status and its document."""
    _document(status, text)
    raise InternalError(98, {"message": "libums returned UMS_OK where an error was expected"})


def call(fn: Callable[..., int], *args: Any) -> Dict[str, Any]:
    """``call_raw`` (a local export) and the JSON document parsed; a non-OK
    status raises the matching ``UmsError``."""
    return _document(*call_raw(fn, *args))


def call_claim(fn: Callable[..., int], *args: Any) -> Dict[str, Any]:
    """``ums_notify_claim`` / ``ums_notify_release``: a buffer of at least
    UMS_MIN_OUT_CAP bytes (below it the library claims or releases
    nothing); the document parsed; a non-OK status raises."""
    return _document(*call_raw(fn, *args, minimum=UMS_MIN_OUT_CAP))


def call_operation(fn: Callable[..., int], handle: int, *args: Any) -> Dict[str, Any]:
    """``call_operation_raw`` (an operation export) and the JSON document
    parsed; a non-OK status raises the matching ``UmsError``."""
    return _document(*call_operation_raw(fn, handle, *args))
