"""chinaums: the ChinaUMS (银联商务) Open Platform client for Python, over libums.

    from chinaums import Client
    # environment: "production", "test" or a base URL, e.g. the simulator's
    # http://127.0.0.1:PORT (`ums-sandbox --port 0` prints it).
    with Client(environment=url, app_id=app_id, app_key=app_key, msg_src_id="3194",
                mid="898340149000005", tid="00000001") as client:
        answer = client.update_qrcode({"qrCodeId": "31942002267733902130410550",
                                       "billNo": client.new_id(), "billDate": "2026-01-02",
                                       "totalAmount": 26})

Errors are in ``chinaums.errors``; the official-SDK call shapes in ``chinaums.compat``.
"""

from ._logging import disable_logging, enable_logging
from ._native import library_path, status_str, version
from .client import Client, notify_reply, verify_notify
from .errors import (
    AnswerGoneError,
    BadSignatureError,
    ClientClosedError,
    ConfigError,
    DuplicateFieldError,
    GatewayRejectedError,
    InternalError,
    MalformedNotificationError,
    MissingSignError,
    NotificationError,
    OperationFailedError,
    OutcomeUnknownError,
    PendingError,
    TlsError,
    TransportError,
    UmsError,
    UmsLibraryNotFound,
    UmsLibraryVersionError,
    UnknownSignTypeError,
    ValidationError,
)

__version__ = "0.1.0"

__all__ = [
    "Client",
    "verify_notify",
    "notify_reply",
    "version",
    "status_str",
    "library_path",
    "enable_logging",
    "disable_logging",
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
]
