"""Exceptions of the chinaums binding.

Every failure reported by libums becomes one ``UmsError`` subclass, chosen by
the status the library returned. The library's error document is kept whole
in ``.document``; it never contains the appKey, signatures, tokens, the
notification key or real-name values, and neither do the messages built here.

    UmsError
    ├── ConfigError            UMS_ERR_CONFIG                      .field
    ├── ValidationError        VALIDATION, INVALID_JSON, INVALID_UTF8,
    │   │                      INVALID_ARGUMENT, NULL_POINTER      .field
    │   └── ClientClosedError  the Client was closed (kind "client_closed")
    ├── GatewayRejectedError   GATEWAY_REJECTED, TOKEN_REJECTED   .err_code .err_msg .http_status .response
    ├── OutcomeUnknownError    OUTCOME_UNKNOWN (money may have moved: query, never resend)
    │   └── AnswerGoneError    ANSWER_GONE (a kept answer expired or was evicted; not resent)
    ├── PendingError           PENDING (accepted, not final: query until final)   .state_field .state .response
    ├── OperationFailedError   OPERATION_FAILED (final failure, nothing moved)     .state_field .state .response
    ├── TransportError         CONNECT (nothing sent)
    │   └── TlsError           TLS (nothing sent)
    ├── NotificationError      NOTIFY_* (.reason; one subclass per status)
    └── InternalError          INTERNAL, PANIC, anything unexpected

Every exception has the same attributes (``None`` when they do not apply):
``status``, ``status_name``, ``kind``, ``message``, ``phase``, ``nothing_sent``,
``outcome_unknown``, ``field``, ``err_code``, ``err_msg``, ``http_status``,
``response``, ``state_field``, ``state``, ``settled``, ``reason`` and
``document``. ``str(e)`` is ``"<kind>: <message>"`` followed by what the
message leaves out: ``(field 'x')``, ``(errCode X: errMsg)``, ``(HTTP n)``.

Library loading problems are ``ImportError`` subclasses (``UmsLibraryNotFound``,
``UmsLibraryVersionError``), because they mean the installation is incomplete.
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Type

__all__ = [
    "UmsError",
    "ConfigError",
    "ValidationError",
    "ClientClosedError",
    "GatewayRejectedError",
    "OutcomeUnknownError",
    "AnswerGoneError",
    "PendingError",
    "OperationFailedError",
    "TransportError",
    "TlsError",
    "NotificationError",
    "BadSignatureError",
    "MissingSignError",
    "UnknownSignTypeError",
    "DuplicateFieldError",
    "MalformedNotificationError",
    "InternalError",
    "UmsLibraryNotFound",
    "UmsLibraryVersionError",
    "STATUS_NAMES",
    "EXCEPTION_BY_NAME",
    "error_from_status",
]

# The statuses of ums.h (its UMS_OK / UMS_ERR_* defines), by value.
STATUS_NAMES: Dict[int, str] = {
    0: "UMS_OK",
    1: "UMS_ERR_NULL_POINTER",
    2: "UMS_ERR_INVALID_UTF8",
    3: "UMS_ERR_INVALID_JSON",
    4: "UMS_ERR_BUFFER_TOO_SMALL",
    5: "UMS_ERR_INVALID_ARGUMENT",
    6: "UMS_ERR_CONFIG",
    7: "UMS_ERR_VALIDATION",
    8: "UMS_ERR_CONNECT",
    9: "UMS_ERR_TLS",
    10: "UMS_ERR_GATEWAY_REJECTED",
    11: "UMS_ERR_OUTCOME_UNKNOWN",
    12: "UMS_ERR_TOKEN_REJECTED",
    13: "UMS_ERR_NOTIFY_BAD_SIGNATURE",
    14: "UMS_ERR_NOTIFY_MISSING_SIGN",
    15: "UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE",
    16: "UMS_ERR_NOTIFY_DUPLICATE_FIELD",
    17: "UMS_ERR_NOTIFY_MALFORMED",
    18: "UMS_ERR_PENDING",
    19: "UMS_ERR_OPERATION_FAILED",
    20: "UMS_ERR_ANSWER_GONE",
    98: "UMS_ERR_INTERNAL",
    99: "UMS_ERR_PANIC",
}


class UmsError(Exception):
    """Base of every error reported by libums.

    Attributes: ``status`` (the UmsStatus value), ``status_name``
    (``"UMS_ERR_..."``), ``kind`` (the library's short name of the failure,
    e.g. ``"gateway_rejected"``; ``"client_closed"`` for ``ClientClosedError``),
    ``message`` (the library's explanation) and ``document`` (the parsed
    error document). The optional keys of the document are also attributes,
    ``None`` when the library did not set them: ``field``, ``err_code``,
    ``err_msg``, ``http_status``, ``response``, ``outcome_unknown``,
    ``nothing_sent``, ``phase`` (``"local"``, ``"connect"`` or ``"sent"``:
    where the call was when it ended), ``state_field``, ``state`` and
    ``settled`` (pending / failed answers). ``reason`` is set on
    ``NotificationError`` only.
    """

    # Errors that are local by definition (bad configuration, bad request):
    # a document made by the binding itself gets these defaults.
    _LOCAL_DEFAULTS: Optional[Dict[str, Any]] = None

    # Set by NotificationError (a short word); None for every other error.
    reason: Optional[str] = None

    def __init__(self, status: int, document: Optional[Mapping[str, Any]] = None) -> None:
        doc: Dict[str, Any] = dict(document or {})
        self.status: int = status
        self.status_name: str = str(doc.get("status") or STATUS_NAMES.get(status, "UMS_ERR_UNKNOWN"))
        doc.setdefault("status", self.status_name)
        if "kind" not in doc and self.status_name.startswith("UMS_ERR_"):
            doc["kind"] = self.status_name[len("UMS_ERR_"):].lower()
        for key, value in (self._LOCAL_DEFAULTS or {}).items():
            doc.setdefault(key, value)
        self.kind: Optional[str] = doc.get("kind")
        self.message: str = str(doc.get("message") or "")
        self.document: Dict[str, Any] = doc
        self.field: Optional[str] = doc.get("field")
        self.err_code: Optional[str] = doc.get("errCode")
        self.err_msg: Optional[str] = doc.get("errMsg")
        self.http_status: Optional[int] = doc.get("httpStatus")
        response = doc.get("response")
        self.response: Optional[Dict[str, Any]] = response if isinstance(response, dict) else None
        self.outcome_unknown: Optional[bool] = doc.get("outcomeUnknown")
        self.nothing_sent: Optional[bool] = doc.get("nothingSent")
        self.phase: Optional[str] = doc.get("phase")
        self.state_field: Optional[str] = doc.get("stateField")
        self.state: Optional[str] = doc.get("state")
        self.settled: Optional[bool] = doc.get("settled")
        super().__init__(self._summary())

    def _summary(self) -> str:
        # Built only from the library's document, which carries no secrets:
        # "<kind>: <message> (field 'x') (errCode X: errMsg) (HTTP n)", each
        # detail only when set and not already in the message.
        head = self.kind or self.status_name
        text = head + ": " + self.message if self.message else head
        details = []
        if self.field and self.field not in self.message:
            details.append("field " + repr(self.field))
        if self.err_code:
            details.append("errCode " + self.err_code + (": " + self.err_msg if self.err_msg else ""))
        elif self.err_msg and self.err_msg not in self.message:
            details.append("errMsg " + self.err_msg)
        if self.http_status is not None and "HTTP" not in self.message:
            details.append("HTTP " + str(self.http_status))
        return text + "".join(" (" + d + ")" for d in details)


_LOCAL = {"phase": "local", "nothingSent": True, "outcomeUnknown": False}


class ConfigError(UmsError):
    """The client configuration is invalid; ``field`` names the key. Nothing was sent."""

    _LOCAL_DEFAULTS = _LOCAL


class ValidationError(UmsError):
    """A request or argument is invalid; ``field`` names it. Nothing was sent."""

    _LOCAL_DEFAULTS = _LOCAL


class ClientClosedError(ValidationError):
    """The Client was closed (the library would have been handed a NULL
    client): kind ``"client_closed"``, phase ``"local"``, nothing sent."""

    def __init__(self) -> None:
        super().__init__(1, {
            "status": "UMS_ERR_NULL_POINTER",
            "kind": "client_closed",
            "message": "the client is closed",
            "outcomeUnknown": False,
            "nothingSent": True,
            "phase": "local",
        })


class GatewayRejectedError(UmsError):
    """The gateway refused the request (``err_code``/``err_msg``), or the
    token endpoint refused to issue a token (status TOKEN_REJECTED)."""


class OutcomeUnknownError(UmsError):
    """The request may have been processed: never resend a money-moving call,
    query the bill first."""


class AnswerGoneError(OutcomeUnknownError):
    """The answer the library kept for a call (its buffer was too small) is
    gone: expired (120 s), evicted (16 newer ones were kept) or already taken.
    The request WAS sent and was not sent again: its outcome is unknown to
    this caller, so query before deciding. (The binding fetches kept answers
    at once, so this needs a pathological delay or more than 16 calls at the
    same moment on one client, each with an answer larger than the buffer.)"""


class _StateError(UmsError):
    """An answer with errCode SUCCESS whose state field says the effect is
    not (successfully) final. ``state_field`` (e.g. ``"refundStatus"``),
    ``state`` (e.g. ``"PROCESSING"``), ``settled`` (False for pending) and
    ``response`` (the gateway's whole answer) come from the error document."""


class PendingError(_StateError):
    """UMS_ERR_PENDING: the gateway accepted the request, but its effect is
    not final yet (``state_field``/``state``, e.g. refundStatus PROCESSING or
    UNKNOWN). No money has settled for sure: query (``query_bill``) until the
    state is final; never resend."""


class OperationFailedError(_StateError):
    """UMS_ERR_OPERATION_FAILED: the gateway processed the request and reports
    a final failure (``state_field``/``state``, e.g. refundStatus FAIL):
    nothing moved. A new request with a new identifier may be sent."""


class TransportError(UmsError):
    """No connection to the gateway could be made. Nothing was sent."""


class TlsError(TransportError):
    """The TLS handshake failed. Nothing was sent."""


class NotificationError(UmsError):
    """A notification failed verification: do not trust it, answer FAILED.
    ``reason`` is a short word: bad_signature, missing_sign,
    unknown_sign_type, duplicate_field or malformed."""

    reason: Optional[str] = "invalid"


class BadSignatureError(NotificationError):
    reason = "bad_signature"


class MissingSignError(NotificationError):
    reason = "missing_sign"


class UnknownSignTypeError(NotificationError):
    reason = "unknown_sign_type"


class DuplicateFieldError(NotificationError):
    reason = "duplicate_field"


class MalformedNotificationError(NotificationError):
    reason = "malformed"


class InternalError(UmsError):
    """A bug in the library or the binding, or a status this binding does not know."""


class UmsLibraryNotFound(ImportError):
    """libums could not be loaded from any of the places searched; ``tried``
    lists each place and why it failed."""

    def __init__(self, tried: Sequence[Tuple[str, str]]) -> None:
        self.tried: List[Tuple[str, str]] = list(tried)
        lines = ["libums (the ChinaUMS client library) could not be loaded; looked in:"]
        lines += ["  - %s: %s" % (place, why) for place, why in self.tried]
        lines.append("Install the wheel that carries it (`make python-wheel` in the chinaums "
                     "repository, then pip install bindings/python/dist/chinaums-*.whl), or build it "
                     "with `make lib` and set UMS_LIBRARY=/path/to/libums.so.")
        super().__init__("\n".join(lines))


class UmsLibraryVersionError(ImportError):
    """The loaded libums has a version this binding was not written for."""

    def __init__(self, path: str, found: str, expected: str) -> None:
        self.path = path
        self.found = found
        self.expected = expected
        super().__init__(
            "libums at %s is version %s, but this chinaums binding needs %s.x; "
            "install the matching library or binding" % (path, found, expected))


# The exception class of every status of ums.h but UMS_OK, by name (the
# numbers are in STATUS_NAMES only). tests/test_header.py fails when this
# table, STATUS_NAMES or the operation list drifts from include/ums.h.
EXCEPTION_BY_NAME: Dict[str, Type[UmsError]] = {
    "UMS_ERR_NULL_POINTER": ValidationError,
    "UMS_ERR_INVALID_UTF8": ValidationError,
    "UMS_ERR_INVALID_JSON": ValidationError,
    # Handled inside the binding (bigger buffer, kept answer); one that
    # reaches a caller is a bug.
    "UMS_ERR_BUFFER_TOO_SMALL": InternalError,
    "UMS_ERR_INVALID_ARGUMENT": ValidationError,
    "UMS_ERR_CONFIG": ConfigError,
    "UMS_ERR_VALIDATION": ValidationError,
    "UMS_ERR_CONNECT": TransportError,
    "UMS_ERR_TLS": TlsError,
    "UMS_ERR_GATEWAY_REJECTED": GatewayRejectedError,
    "UMS_ERR_OUTCOME_UNKNOWN": OutcomeUnknownError,
    "UMS_ERR_TOKEN_REJECTED": GatewayRejectedError,
    "UMS_ERR_NOTIFY_BAD_SIGNATURE": BadSignatureError,
    "UMS_ERR_NOTIFY_MISSING_SIGN": MissingSignError,
    "UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE": UnknownSignTypeError,
    "UMS_ERR_NOTIFY_DUPLICATE_FIELD": DuplicateFieldError,
    "UMS_ERR_NOTIFY_MALFORMED": MalformedNotificationError,
    "UMS_ERR_PENDING": PendingError,
    "UMS_ERR_OPERATION_FAILED": OperationFailedError,
    "UMS_ERR_ANSWER_GONE": AnswerGoneError,
    "UMS_ERR_INTERNAL": InternalError,
    "UMS_ERR_PANIC": InternalError,
}

_BY_STATUS: Dict[int, Type[UmsError]] = {
    status: EXCEPTION_BY_NAME[name] for status, name in STATUS_NAMES.items() if status != 0
}


def error_from_status(status: int, document: Optional[Mapping[str, Any]] = None) -> UmsError:
    """The exception for a status and its error document (unknown → InternalError)."""
    return _BY_STATUS.get(status, InternalError)(status, document)
