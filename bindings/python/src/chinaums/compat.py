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

Configuration: the code decides first, then the ``UMS_*`` environment
variables (the library's ``"fromEnvironment": true``, one rule for every
binding):

* the gateway: a ``request.url`` on an official host implies one without
  naming it (``https://api-mop.chinaums.com`` → production,
  ``https://test-api-open.chinaums.com`` → test), and so does a request
  without a URL (the official SDK's default, production: the official Python
  sample's requests carry none) unless the constructor was given
  ``environment=``. That implied gateway is passed as the library's
  ``"environmentDefault"``: it applies when ``UMS_ENVIRONMENT`` is unset, and
  ``UMS_ENVIRONMENT`` may replace it only with a loopback ``http://`` URL
  (the simulator's ``http://127.0.0.1:PORT``); any other value
  (``production``, ``test``, another host) is a ``ConfigError`` naming
  ``environment``. Any other URL, and the constructor's ``environment=``,
  name the gateway (``"environment"``): ``UMS_ENVIRONMENT`` may only repeat
  it;
* the credentials: the ``appId`` / ``appKey`` given to the constructor
  (``None`` leaves them to ``UMS_APP_ID`` / ``UMS_APP_KEY``);
* every other key (``mid``, ``tid``, ``msgSrcId``, ``notifyKey``,
  ``timeoutMs``...): the constructor's keyword arguments, else its ``UMS_*``
  variable (``UMS_MID``, ``UMS_TID``, ``UMS_MSG_SRC_ID``, ``UMS_NOTIFY_KEY``,
  ``UMS_TIMEOUT_MS``...).

A variable that says something else than the code (``UMS_APP_ID`` another
app, ``UMS_ENVIRONMENT`` another gateway than the one the code names or
implies) is a ``ConfigError`` naming the key, never silently ignored nor
obeyed: an environment variable never sends the credentials written in the
code to another gateway (the simulator on this machine excepted). There is
no built-in simulator: run ``ums-sandbox --port 0`` and set
``UMS_ENVIRONMENT`` to the URL it prints: the official Python sample, with
the simulator's demo appId/appKey written in, then runs against it.

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

__all__ = ["DefaultOpenApiClient", "HOSTS", "SDK_DEFAULT"]

# Official hosts (https, no port) → the environment they imply.
HOSTS = {
    "api-mop.chinaums.com": "production",
    "test-api-open.chinaums.com": "test",
}

# The official SDK's gateway when the request carries no URL.
SDK_DEFAULT = "production"


def _get(request: Any, name: str, default: Any = None) -> Any:
    """An attribute of a DataRequest-like object, or a key of a dict."""
    if isinstance(request, dict):
        return request.get(name, default)
    return getattr(request, name, default)


def _environment_of(url: str) -> Tuple[str, str]:
    """``("environmentDefault", name)`` for an official host, else
    ``("environment", base URL)``."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValidationError(5, {"message": "request url is not an absolute URL", "field": "url",
                                  "nothingSent": True})
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(5, {"message": "request url has an invalid port", "field": "url",
                                  "nothingSent": True}) from None
    implied = HOSTS.get((parts.hostname or "").lower())
    if implied is not None and parts.scheme.lower() == "https" and port is None:
        return "environmentDefault", implied
    return "environment", "%s://%s" % (parts.scheme.lower(), parts.netloc)


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
    ``chinaums.Client`` per (environment, auth mode), created on first use
    (the ``UMS_*`` variables are read then, by the library).

    ``app_id`` / ``app_key`` ``None`` (or empty) leave them to ``UMS_APP_ID``
    / ``UMS_APP_KEY``; ``environment=`` names the gateway of requests
    without a ``url`` (without it they imply production); other keyword arguments are added to every ``Client``'s
    configuration (``timeout_ms=``, ``mid=``, ``proxy=``...)."""

    def __init__(self, app_id: Optional[str], app_key: Optional[str], *,
                 environment: Optional[str] = None, strict: bool = False, **config: Any) -> None:
        # Kept until the first client is built for each mode (the official
        # constructor shape has no other place to put them).
        self._app_id = app_id or None
        self._app_key = app_key or None
        self._environment = environment or None
        self._strict = strict
        self._config = config  # extra Client configuration (timeouts, proxy...)
        self._clients: Dict[Tuple[Tuple[str, str], str], Client] = {}
        self._lock = threading.Lock()

    def _client(self, environment: Tuple[str, str], auth: str) -> Client:
        with self._lock:
            client = self._clients.get((environment, auth))
            if client is None:
                # Only what the code gives or implies; the library fills the
                # rest from the UMS_* variables, refuses a variable that
                # contradicts it, and applies "environmentDefault".
                key, value = environment
                config: Dict[str, Any] = {"fromEnvironment": True, "auth": auth, key: value}
                if self._app_id is not None:
                    config["appId"] = self._app_id
                if self._app_key is not None:
                    config["appKey"] = self._app_key
                client = Client(config, **self._config)
                self._clients[(environment, auth)] = client
            return client

    def _gateway(self, request: Any) -> Tuple[str, str]:
        """The library key and value for ``request``'s gateway:
        ``("environment", x)`` when the code names it (a URL other than the
        official hosts, else the constructor's ``environment``),
        ``("environmentDefault", x)`` when it only implies it (an official
        host, or no URL at all: the official SDK's production)."""
        url = _get(request, "url")
        if url:
            return _environment_of(str(url))
        if self._environment is not None:
            return "environment", self._environment
        return "environmentDefault", SDK_DEFAULT

    def environment_for(self, request: Any) -> str:
        """The gateway the code names or implies for ``request``: the host of
        its ``url`` (``"production"`` / ``"test"`` for the official hosts,
        else the base URL), else the constructor's ``environment``, else
        ``"production"``. An implied one (official host, no URL) may be
        replaced by a loopback ``UMS_ENVIRONMENT`` (the simulator); where a
        client actually goes: ``client_for(request).info["baseUrl"]``."""
        return self._gateway(request)[1]

    def client_for(self, request: Any) -> Client:
        """The ``chinaums.Client`` that ``execute(request)`` uses (built on
        first use; nothing is sent)."""
        auth = "token" if _get(request, "needToken", True) else "body-sig"
        return self._client(self._gateway(request), auth)

    def execute(self, request: Any) -> Dict[str, Any]:
        """Sends ``request``; returns the gateway's answer as a dict."""
        path = _service_path(request)
        data = _data_of(request)
        body: Dict[str, Any] = {"data": data} if _get(request, "needDataTag", False) else data
        client = self.client_for(request)
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
