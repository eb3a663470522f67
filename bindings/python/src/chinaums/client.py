"""The Client: one libums client handle, shared safely between threads."""

import ctypes
import json
import threading
from typing import Any, Dict, List, Mapping, Optional, Union

from . import _native
from .errors import ClientClosedError, UmsError, ValidationError

__all__ = ["Client", "verify_notify", "notify_reply", "Request", "Config"]

# A request or config: a mapping (serialised to JSON here) or JSON text.
Request = Union[Mapping[str, Any], str, bytes]
Config = Union[Mapping[str, Any], str, bytes, None]


def _camel(name: str) -> str:
    """Python keyword names to the library's config keys: app_id → appId."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _json_bytes(value: Request, what: str) -> bytes:
    """A request/config as UTF-8 JSON bytes for a ``const char *`` argument."""
    if isinstance(value, Mapping):
        return json.dumps(dict(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
    elif isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    else:
        raise TypeError("%s must be a dict or a JSON string, not %s" % (what, type(value).__name__))
    if b"\0" in data:
        # A C string would silently end there; refuse instead.
        raise ValidationError(3, {"message": "`%s` contains a NUL character" % what, "nothingSent": True})
    return data


def _text_arg(value: Optional[str], what: str) -> Optional[bytes]:
    if value is None:
        return None
    if type(value) is not str and not isinstance(value, str):
        raise TypeError("%s must be a str or None" % what)
    data = value.encode("utf-8", "surrogatepass")
    if b"\0" in data:
        raise ValidationError(5, {"message": "`%s` contains a NUL character" % what, "nothingSent": True})
    return data


def _body_bytes(body: Union[bytes, bytearray, memoryview, str], what: str) -> bytes:
    if type(body) is bytes:
        return body  # immutable: no copy needed
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise TypeError("%s must be bytes (the raw body as received)" % what)


def verify_notify(notify_key: str, raw_body: Union[bytes, bytearray, memoryview, str]) -> Dict[str, Any]:
    """Verifies a payment notification.

    ``raw_body`` is the form body exactly as received (bytes, not re-encoded);
    ``notify_key`` the communication key. Returns
    ``{"valid": True, "signType": ..., "notifyId": ..., "fields": {...}}``
    (JSON-text fields such as ``billPayment`` parsed). A forged or damaged
    notification raises a ``NotificationError`` subclass: answer
    ``notify_reply(False)`` then, ``notify_reply(True)`` only after this
    returned and the notification was processed.
    """
    key = _text_arg(notify_key, "notify_key")
    if key is None:
        raise TypeError("notify_key is required")
    body = _body_bytes(raw_body, "raw_body")
    lib = _native.library()
    return _native.call(lib.ums_verify_notify, key, body, len(body))


def notify_reply(handled: bool) -> str:
    """The text to answer a notification with: "SUCCESS" (verified and
    processed; ChinaUMS stops retrying) or "FAILED" (ChinaUMS retries)."""
    raw: bytes = _native.library().ums_notify_reply(1 if handled else 0)
    return raw.decode("ascii")


class Client:
    """A ChinaUMS client over libums.

    ``Client(config=None, **kwargs)``: ``config`` is the JSON configuration of
    the library (a dict or JSON text, see the README's "Configuration");
    keyword arguments are added to it, in Python spelling (``app_id=``,
    ``connect_timeout_ms=``) or as the library spells them (``appId=``).
    ``environment`` (``"production"``, ``"test"`` or a base URL such as the
    ``http://127.0.0.1:PORT`` that the ``ums-sandbox`` simulator prints),
    ``appId`` and ``appKey`` are required: there is no default gateway and no
    built-in credentials, so ``Client()`` raises ``ConfigError``.
    ``from_environment=True`` takes every key the configuration leaves out
    from its ``UMS_*`` variable (``UMS_ENVIRONMENT``, ``UMS_APP_ID``...); a
    variable that contradicts a given key is a ``ConfigError``.

    The Client keeps no copy of the configuration (so neither the appKey nor
    the notifyKey stays in Python objects it owns); the library holds them.

    Every operation takes the request as a dict (or JSON text) and returns the
    gateway's answer as a dict when ``errCode`` is ``SUCCESS``; anything else
    raises a ``chinaums.errors.UmsError`` subclass.

    One Client may be shared by any number of threads (ctypes releases the
    GIL during calls). ``close()`` waits for calls in progress, then frees the
    handle; calls after it raise ``ClientClosedError``.
    """

    def __init__(self, config: Config = None, *, token_store: Any = None, **kwargs: Any) -> None:
        self._handle: Optional[int] = None
        # The ctypes callbacks of a callback token store: they must live as
        # long as the handle (the library keeps pointers to them).
        self._token_store: "Optional[_CallbackTokenStore]" = None
        # Calls take the plain lock (cheaper than entering the Condition);
        # close() waits on the Condition built over the same lock.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._active = 0
        self._closing = False
        self.info: Dict[str, Any] = {}
        if isinstance(token_store, (str, bytes, bytearray)):
            # token_store="redis://..." is the config key tokenStore, as before.
            kwargs = dict(kwargs, token_store=token_store)
            token_store = None
        lib = _native.library()
        config_json = self._config_json(config, kwargs)
        handle = ctypes.c_void_p()
        if token_store is None:
            info = _native.call(lib.ums_client_new, config_json, ctypes.byref(handle))
        else:
            store = _CallbackTokenStore(token_store)
            self._token_store = store
            info = _native.call(lib.ums_client_new_with_token_store, config_json,
                                ctypes.byref(store.struct), ctypes.byref(handle))
        del config_json  # holds the appKey: do not keep it around
        if not handle.value:
            raise ValidationError(1, {"message": "libums returned no client"})
        self._handle = handle.value
        # {"status","version","appId","baseUrl","auth"}: no secrets.
        self.info = info

    @staticmethod
    def _config_json(config: Config, kwargs: Mapping[str, Any]) -> bytes:
        if not kwargs and config is not None and not isinstance(config, Mapping):
            return _json_bytes(config, "config")
        merged: Dict[str, Any] = {}
        if isinstance(config, Mapping):
            merged.update(config)
        elif config is not None:
            text = config.decode("utf-8") if isinstance(config, (bytes, bytearray)) else config
            parsed = json.loads(text)
            if not isinstance(parsed, dict):
                raise TypeError("config must be a JSON object")
            merged.update(parsed)
        for name, value in kwargs.items():
            merged[_camel(name)] = value  # keyword arguments win over the dict
        return _json_bytes(merged, "config")

    # -- lifetime -------------------------------------------------------------

    def close(self) -> None:
        """Frees the library handle; waits for calls in progress. Idempotent."""
        lib = _native.library() if self._handle is not None else None
        with self._cond:
            self._closing = True
            while self._active:
                self._cond.wait()
            handle, self._handle = self._handle, None
            if handle is not None and lib is not None:
                lib.ums_client_free(handle)

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        # No call can be running: each holds a reference to the Client.
        try:
            if getattr(self, "_handle", None) is not None:
                self.close()
        except Exception:  # interpreter shutdown: nothing sensible left to do
            pass

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return "<chinaums.Client appId=%s baseUrl=%s auth=%s %s>" % (
            self.info.get("appId"), self.info.get("baseUrl"), self.info.get("auth"), state)

    def _borrow(self) -> "_Borrow":
        """The handle, counted as in use until the block ends (close waits)."""
        return _Borrow(self)

    def _op(self, export: str, request: Request) -> Dict[str, Any]:
        body = _json_bytes(request, "request")
        fn = getattr(_native.library(), export)
        with self._borrow() as handle:
            return _native.call_operation(fn, handle, body)

    # -- operations -----------------------------------------------------------

    def get_qrcode(self, request: Request) -> Dict[str, Any]:
        """``bills/get-qrcode``: creates a QR code (one-off with billNo,
        billDate, totalAmount; fixed with or without an amount)."""
        return self._op("ums_get_qrcode", request)

    def update_qrcode(self, request: Request) -> Dict[str, Any]:
        """``bills/update-qrcode``: binds a new bill to an existing QR code.
        requestTimestamp, mid, tid and instMid are filled when absent."""
        return self._op("ums_update_qrcode", request)

    def close_qrcode(self, request: Request) -> Dict[str, Any]:
        """``bills/close-qrcode``: closes a QR code (qrCodeId; attachRefund)."""
        return self._op("ums_close_qrcode", request)

    def query_bill(self, request: Request) -> Dict[str, Any]:
        """``bills/query``: a bill's status and payment (billNo, billDate)."""
        return self._op("ums_query_bill", request)

    def refund(self, request: Request) -> Dict[str, Any]:
        """``bills/refund``: give every refund its own refundOrderId (new_id())."""
        return self._op("ums_refund", request)

    def query_qrcode_info(self, request: Request) -> Dict[str, Any]:
        """``bills/query-qrcode-info``: the bill a QR code carries."""
        return self._op("ums_query_qrcode_info", request)

    def preauth_complete(self, request: Request) -> Dict[str, Any]:
        """``bills/preauthed``: completes a pre-authorisation."""
        return self._op("ums_preauth_complete", request)

    def preauth_cancel(self, request: Request) -> Dict[str, Any]:
        """``bills/preauth-cancel``: cancels a pre-authorisation."""
        return self._op("ums_preauth_cancel", request)

    def secure_cancel(self, request: Request) -> Dict[str, Any]:
        """``secure-cancel``: cancels a guaranteed trade (merOrderId)."""
        return self._op("ums_secure_cancel", request)

    def secure_complete(self, request: Request) -> Dict[str, Any]:
        """``secure-complete``: completes a guaranteed trade (merOrderId, completedAmount)."""
        return self._op("ums_secure_complete", request)

    def call(self, service_path: str, request: Request) -> Dict[str, Any]:
        """Any ``/v1/...`` service path. Known bills paths get their checks; a
        request exactly ``{"data": {...}}`` is the official SDKs' needDataTag
        envelope (the inner object is checked, the envelope is sent)."""
        path = _text_arg(service_path, "service_path")
        body = _json_bytes(request, "request")
        lib = _native.library()
        with self._borrow() as handle:
            return _native.call_operation(lib.ums_call, handle, path, body)

    def call_text(self, service_path: str, request: Request) -> str:
        """``call`` for those who want the text: the gateway's answer exactly
        as received (no parse into a dict, the cheapest call of the binding).
        Errors raise the same ``UmsError`` subclasses as every operation."""
        path = _text_arg(service_path, "service_path")
        body = _json_bytes(request, "request")
        lib = _native.library()
        with self._borrow() as handle:
            status, text = _native.call_operation_raw(lib.ums_call, handle, path, body)
        if status != _native.UMS_OK:
            _native.raise_for(status, text)
        return text

    def _take_answer(self, answer_id: str) -> Dict[str, Any]:
        """``ums_take_answer``: the answer the library kept under ``answer_id``.
        The operations take their kept answers themselves, so callers never
        need this; it exists for the cross-language behaviour table
        (tests/data/behaviour.json), whose ``take_answer`` case hands an id that
        was never issued and expects ``AnswerGoneError``. Sends nothing."""
        key = _text_arg(answer_id, "answer_id")
        if key is None:
            raise TypeError("answer_id is required")
        lib = _native.library()
        with self._borrow() as handle:
            return _native.call_operation(lib.ums_take_answer, handle, key)

    # -- after "outcome unknown" -------------------------------------------------

    def resolve(self, outcome: Any) -> Dict[str, Any]:
        """``ums_resolve``: what became of a money-moving call whose outcome
        is unknown, from read-only queries (it never resends). ``outcome`` is
        the ``UmsError`` the call raised (its document carries
        ``resolveWith``), a dict such as ``{"operation": "refund",
        "request": {...}}`` or an entry of ``journal_pending()``. Returns
        ``{"verdict": "applied" | "not_applied" | "pending" | "cannot_tell",
        "safeToResend", "message", "evidence", "retryAfter", ...}``."""
        document = outcome.document if isinstance(outcome, UmsError) else outcome
        body = _json_bytes(document, "outcome")
        lib = _native.library()
        with self._borrow() as handle:
            return _native.call_operation(lib.ums_resolve, handle, body)

    def journal_pending(self) -> List[Dict[str, Any]]:
        """``ums_journal_pending``: the open entries of the client's journal
        (config ``"journal"``), oldest first; each is a ``resolve()`` input."""
        lib = _native.library()
        with self._borrow() as handle:
            return list(_native.call_operation(lib.ums_journal_pending, handle)["pending"])

    # -- helpers without network ------------------------------------------------

    def prepare(self, operation: str, request: Request,
                timestamp: Optional[str] = None, nonce: Optional[str] = None) -> Dict[str, Any]:
        """The request as it would be sent, without sending it:
        ``{"url", "path", "body" (exact JSON text), "authorization"}``.
        ``timestamp`` is ``yyyyMMddHHmmss`` (Beijing time); None means now and
        a random nonce."""
        op = _text_arg(operation, "operation")
        body = _json_bytes(request, "request")
        ts = _text_arg(timestamp, "timestamp")
        nc = _text_arg(nonce, "nonce")
        lib = _native.library()
        with self._borrow() as handle:
            return _native.call(lib.ums_prepare, handle, op, body, ts, nc)

    def new_id(self) -> str:
        """A new 28-character merchant identifier (billNo, merOrderId,
        refundOrderId): msgSrcId + Beijing time + 7 digits. Needs msgSrcId."""
        lib = _native.library()
        with self._borrow() as handle:
            return str(_native.call(lib.ums_new_id, handle)["id"])

    def sign_body(self, body: Union[bytes, bytearray, memoryview, str],
                  timestamp: Optional[str] = None, nonce: Optional[str] = None) -> Dict[str, Any]:
        """The OPEN-BODY-SIG ``Authorization`` header for ``body``, for your own
        HTTP stack: ``{"authorization", "timestamp", "nonce"}``. Send exactly
        these bytes."""
        data = _body_bytes(body, "body")
        ts = _text_arg(timestamp, "timestamp")
        nc = _text_arg(nonce, "nonce")
        lib = _native.library()
        with self._borrow() as handle:
            return _native.call(lib.ums_sign_body, handle, data, len(data), ts, nc)

    def token_request(self, timestamp: Optional[str] = None,
                      nonce: Optional[str] = None) -> Dict[str, Any]:
        """The signed body of ``POST /v1/token/access``, for your own HTTP stack."""
        ts = _text_arg(timestamp, "timestamp")
        nc = _text_arg(nonce, "nonce")
        lib = _native.library()
        with self._borrow() as handle:
            return _native.call(lib.ums_token_request, handle, ts, nc)

    def verify_notify(self, raw_body: Union[bytes, bytearray, memoryview, str], *,
                      notify_key: Optional[str] = None) -> Dict[str, Any]:
        """Verifies a payment notification with this client's configuration:
        its ``notifyKey`` (held by the library, never by Python objects) and
        its ``notifySignTypes`` policy (``["SHA256"]`` refuses MD5-signed
        notifications with ``UnknownSignTypeError``). Same result and errors
        as the module-level ``verify_notify``; a client without a notifyKey
        raises ``ConfigError`` (``field`` ``"notifyKey"``).

        ``notify_key=`` verifies with that key instead (the module-level
        function: both MD5 and SHA256, the client's policy not applied)."""
        if notify_key is not None:
            return verify_notify(notify_key, raw_body)
        body = _body_bytes(raw_body, "raw_body")
        lib = _native.library()
        with self._borrow() as handle:
            return _native.call(lib.ums_client_verify_notify, handle, body, len(body))

    @staticmethod
    def notify_reply(handled: bool) -> str:
        """Same as the module-level ``notify_reply``."""
        return notify_reply(handled)

    # -- notification claims (several receivers) ------------------------------

    def _claim_call(self, export: str, notify_id: str) -> Dict[str, Any]:
        key = _text_arg(notify_id, "notify_id")
        if key is None:
            raise TypeError("notify_id is required")
        fn = getattr(_native.library(), export)
        with self._borrow() as handle:
            return _native.call_claim(fn, handle, key)

    def claim_notification(self, notify_id: str) -> bool:
        """Claims a verified notification (its ``notifyId``) for processing,
        across every receiver sharing the client's ``claimStore`` (a Redis
        URL; default the ``tokenStore``'s Redis, else this process's memory).

        True: this receiver processes it, then answers SUCCESS; if processing
        fails, ``release_notification(notify_id)`` and answer FAILED (ChinaUMS
        resends). False: another receiver (or an earlier delivery) handled or
        is handling it: answer SUCCESS without processing. A claim lives 25 h.
        When Redis cannot be reached, this process's own claims answer (at
        worst a notification is processed twice, never lost). ``notify_id``:
        1 to 128 printable ASCII characters without spaces (``ValidationError``
        otherwise)."""
        return self._claim_call("ums_notify_claim", notify_id).get("claimed") is True

    def release_notification(self, notify_id: str) -> None:
        """Releases a claim made by ``claim_notification`` (processing
        failed), so that ChinaUMS's next resend is processed, here or by
        another receiver. When Redis cannot be reached, the release is sent
        once it answers again."""
        self._claim_call("ums_notify_release", notify_id)


class _CallbackTokenStore:
    """The ``UmsTokenStore`` of a Python object with ``get() ->
    Optional[Tuple[str, int]]``, ``put(token, expires_at_unix_ms)`` and
    ``invalidate(token)`` (compare-and-delete). Holds the ctypes callbacks
    (they must outlive the client handle). No exception ever reaches C: a
    callback that raises returns -1, which the library treats as a store
    failure (the client then works alone for a few seconds)."""

    def __init__(self, store: Any) -> None:
        for name in ("get", "put", "invalidate"):
            if not callable(getattr(store, name, None)):
                raise TypeError("token_store must have get(), put(token, expires_at_unix_ms) "
                                "and invalidate(token) methods (missing %s)" % name)
        self.store = store
        self.get = _native.TOKEN_STORE_GET(self._get)
        self.put = _native.TOKEN_STORE_PUT(self._put)
        self.invalidate = _native.TOKEN_STORE_INVALIDATE(self._invalidate)
        self.struct = _native.TokenStore(None, self.get, self.put, self.invalidate)

    def _get(self, _userdata: Any, buf: Any, cap: int, length: Any, expires: Any) -> int:
        try:
            found = self.store.get()
            if found is None:
                return 1
            token, expires_at = found
            data = token.encode("ascii") if isinstance(token, str) else bytes(token)
            expires_at_ms = int(expires_at)
            if not data or len(data) > cap:
                return -1
            ctypes.memmove(buf, data, len(data))
            length[0] = len(data)
            expires[0] = expires_at_ms
            return 0
        except BaseException:  # never into C
            return -1

    def _put(self, _userdata: Any, token: Optional[bytes], expires_at: int) -> int:
        try:
            if token is None:
                return -1
            self.store.put(token.decode("ascii"), int(expires_at))
            return 0
        except BaseException:
            return -1

    def _invalidate(self, _userdata: Any, token: Optional[bytes]) -> int:
        try:
            if token is None:
                return -1
            self.store.invalidate(token.decode("ascii"))
            return 0
        except BaseException:
            return -1


class _Borrow:
    """``with client._borrow() as handle``: a plain context manager, several
    microseconds cheaper per call than a ``@contextmanager`` generator."""

    __slots__ = ("_client",)

    def __init__(self, client: Client) -> None:
        self._client = client

    def __enter__(self) -> int:
        client = self._client
        with client._lock:
            if client._handle is None or client._closing:
                raise ClientClosedError()
            client._active += 1
            return client._handle

    def __exit__(self, *exc: Any) -> None:
        client = self._client
        with client._lock:
            client._active -= 1
            if client._closing and not client._active:
                client._cond.notify_all()
