"""Drop-in call shapes of the official ChinaUMS Python SDK.

Switching from the official SDK is one line::

    # from webapi.DefaultOpenApiClient import DefaultOpenApiClient
    from chinaums.compat import DefaultOpenApiClient

    client = DefaultOpenApiClient(appId, appKey)
    response = client.execute(request)      # a dict, as before
    print(response.get("errCode"))

``request`` is the official sample's ``DataRequest`` (or any object or dict
with the same attributes): ``serviceCode`` and ``apiVersion`` (or ``url``),
``needToken``, ``needDataTag`` and ``data`` (a dict or JSON text).

Where requests go:

* ``UMS_ENVIRONMENT`` (``sandbox``, ``test``, ``production`` or a base URL)
  overrides everything;
* otherwise the host of ``request.url``: ``api-mop.chinaums.com`` →
  production, ``test-api-open.chinaums.com`` → test, anything else → that
  base URL;
* otherwise the ``environment`` given to the constructor, else production
  (the official sample's requests carry no URL).

Credentials: ``UMS_APP_ID`` / ``UMS_APP_KEY`` override the ones given. With
``UMS_ENVIRONMENT=sandbox`` and no ``UMS_APP_ID`` the simulator's demo app is
used (the embedded simulator knows only that app).

``needToken`` true → OPEN-ACCESS-TOKEN, false → OPEN-BODY-SIG.
``needDataTag`` true → the body is ``{"data": <request>}``.

Results, chosen to match what the official SDK returns:

* the gateway answered → its answer as a dict, whatever its ``errCode``
  (``SUCCESS``, ``DUP_ORDER``, ``TIMEOUT``...) or state (a refund's
  ``refundStatus`` ``PROCESSING`` or ``FAIL``), as the official SDK does;
  check ``errCode`` as before. Pass ``strict=True`` to the constructor to get
  our exceptions instead (recommended: an ``OutcomeUnknownError`` says
  "query, never resend");
* local failures (invalid request or configuration, no connection, TLS
  failure, a connection lost with no answer) raise ``chinaums.errors``
  exceptions, where the official SDK would raise its HTTP library's errors
  or send an invalid request.
"""

import json
import os
import threading
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit

from .client import Client
from .errors import (
    GatewayRejectedError,
    OperationFailedError,
    OutcomeUnknownError,
    PendingError,
    ValidationError,
)

__all__ = ["DefaultOpenApiClient", "HOSTS"]

# Official hosts → the library's environment names.
HOSTS = {
    "api-mop.chinaums.com": "production",
    "test-api-open.chinaums.com": "test",
}


def _get(request: Any, name: str, default: Any = None) -> Any:
    """An attribute of a DataRequest-like object, or a key of a dict."""
    if isinstance(request, dict):
        return request.get(name, default)
    return getattr(request, name, default)


def _environment_of(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValidationError(5, {"message": "request url is not an absolute URL", "field": "url",
                                  "nothingSent": True})
    return HOSTS.get(parts.hostname or "", "%s://%s" % (parts.scheme, parts.netloc))


def _service_path(request: Any) -> str:
    """``/v1/netpay/...`` from serviceCode/apiVersion, or from a full url."""
    code = str(_get(request, "serviceCode") or "")
    version = str(_get(request, "apiVersion") or "").strip("/")
    url = str(_get(request, "url") or "")
    if code:
        code = "/" + code.lstrip("/")
        if version and not code.startswith("/" + version + "/"):
            return "/" + version + code
        return code
    path = urlsplit(url).path if url else ""
    if path.startswith("/v"):
        return path
    raise ValidationError(5, {"message": "request has no serviceCode (nor a url with a /v... path)",
                              "field": "serviceCode", "nothingSent": True})


def _data_of(request: Any) -> Dict[str, Any]:
    data = _get(request, "data")
    if isinstance(data, (str, bytes, bytearray)):
        try:
            data = json.loads(data)
        except ValueError:
            raise ValidationError(3, {"message": "request data is not valid JSON", "field": "data",
                                      "nothingSent": True}) from None
    if not isinstance(data, dict):
        raise ValidationError(3, {"message": "request data must be a JSON object", "field": "data",
                                  "nothingSent": True})
    return data


class DefaultOpenApiClient:
    """The official SDK's client shape: ``DefaultOpenApiClient(appId, appKey)``
    and ``execute(request) -> dict``. Thread-safe; holds one
    ``chinaums.Client`` per (environment, auth mode), created on first use."""

    def __init__(self, app_id: str, app_key: str, *, environment: Optional[str] = None,
                 strict: bool = False, **config: Any) -> None:
        # Kept until the first client is built for each mode (the official
        # constructor shape has no other place to put them).
        self._app_id = app_id
        self._app_key = app_key
        self._environment = environment
        self._strict = strict
        self._config = config  # extra Client configuration (timeouts, proxy...)
        self._clients: Dict[Tuple[str, str], Client] = {}
        self._lock = threading.Lock()

    def _client(self, environment: str, auth: str) -> Client:
        with self._lock:
            client = self._clients.get((environment, auth))
            if client is None:
                config: Dict[str, Any] = dict(self._config)
                config.update(environment=environment, auth=auth)
                app_id = os.environ.get("UMS_APP_ID") or None
                app_key = os.environ.get("UMS_APP_KEY") or None
                if environment == "sandbox" and app_id is None:
                    pass  # the library's demo app: the simulator knows no other
                else:
                    config["appId"] = app_id or self._app_id
                    config["appKey"] = app_key or self._app_key
                client = Client(config)
                self._clients[(environment, auth)] = client
            return client

    def environment_for(self, request: Any) -> str:
        """Where ``request`` would go (see the module documentation)."""
        override = os.environ.get("UMS_ENVIRONMENT")
        if override:
            return override
        url = _get(request, "url")
        if url:
            return _environment_of(str(url))
        return self._environment or "production"

    def execute(self, request: Any) -> Dict[str, Any]:
        """Sends ``request``; returns the gateway's answer as a dict."""
        path = _service_path(request)
        data = _data_of(request)
        body: Dict[str, Any] = {"data": data} if _get(request, "needDataTag", False) else data
        auth = "token" if _get(request, "needToken", True) else "body-sig"
        client = self._client(self.environment_for(request), auth)
        try:
            return client.call(path, body)
        except (GatewayRejectedError, OutcomeUnknownError, PendingError, OperationFailedError) as e:
            # The official SDK hands back whatever JSON the gateway answered.
            if self._strict or e.response is None:
                raise
            return e.response

    def close(self) -> None:
        """Closes the clients (optional; they are closed when collected)."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def __enter__(self) -> "DefaultOpenApiClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
