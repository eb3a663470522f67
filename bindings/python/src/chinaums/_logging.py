"""Forwarding libums's log lines to the ``logging`` module (opt-in).

The library logs one line per call (path, outcome, errCode, duration) and
never the appKey, signatures, tokens, the notification key, bodies or
real-name values. Nothing is forwarded until ``enable_logging()`` is called:
every forwarded line takes the GIL, from whatever thread the library logs on.
"""

import atexit
import logging
from typing import Any, List, Optional

from . import _native
from .errors import error_from_status

__all__ = ["enable_logging", "disable_logging"]

# UMS_LOG_ERROR..UMS_LOG_DEBUG → logging levels.
_LEVELS = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG}

# Every callback ever installed stays referenced: the library may still be
# running an old one on another thread while a new one is installed.
_installed: List[Any] = []
_atexit_registered = False


def _ums_level(level: int) -> int:
    if level <= logging.DEBUG:
        return 4
    if level <= logging.INFO:
        return 3
    if level <= logging.WARNING:
        return 2
    return 1


def enable_logging(level: int = logging.INFO, logger: Optional[logging.Logger] = None) -> None:
    """Forwards the library's log lines up to ``level`` (a ``logging`` level)
    to ``logger`` (default ``logging.getLogger("chinaums")``). Process-wide."""
    global _atexit_registered
    target = logger or logging.getLogger("chinaums")

    def forward(_userdata: Any, ums_level: int, message: Optional[bytes]) -> None:
        try:
            text = message.decode("utf-8", "replace") if message else ""
            target.log(_LEVELS.get(ums_level, logging.INFO), "%s", text)
        except Exception:  # never let an exception cross into the library
            pass

    callback = _native.LOG_CALLBACK(forward)
    lib = _native.library()
    status = lib.ums_set_log_callback(callback, None, _ums_level(level))
    if status != 0:
        raise error_from_status(status, {"message": "ums_set_log_callback refused the level"})
    _installed.append(callback)
    if not _atexit_registered:
        # No callback into an interpreter that is shutting down.
        atexit.register(disable_logging)
        _atexit_registered = True


def disable_logging() -> None:
    """Stops forwarding the library's log lines."""
    if _native._lib is not None:
        _native._lib.ums_set_log_callback(_native.LOG_CALLBACK(), None, 1)  # NULL removes it
