"""The cross-language behaviour table, tests/data/behaviour.json, run against
the simulator. The PHP and Java suites run the same table with the same rules;
the table's "rules" member states them, and this runner follows them exactly:

- One ``ums-sandbox`` started for the table (all cases share it). After every
  case: ``DELETE /_sandbox/faults`` (a fault a broken binding did not consume
  cannot leak into the next case) and every client of the case is closed.
- demo config: the simulator's URL as ``environment`` plus the demo appId,
  appKey, msgSrc, msgSrcId, mid and tid. ``config``: merged over it key by key,
  a null value removes the key.
- setup ``client``: a client of the demo config. ``paid_bill``: also a
  one-off bill (get-qrcode {billNo: new_id(), billDate: today in Beijing,
  totalAmount: 100}) paid with ``POST /_sandbox/pay {"qrCodeId"}``; its
  billNo/billDate are set in the request. ``client_on_closed_port``: a socket
  bound to 127.0.0.1:0 that never listens (kept open during the case, so the
  port cannot be taken: no race) and a client whose environment is
  ``http://127.0.0.1:<port>``.
- request: a member whose value is the string "new" becomes ``new_id()``.
- fault: after the setup, ``POST /_sandbox/faults {"path":
  operations[operation].path, "fault", "count": 1}``, which must answer 200.
- actions: ``new_client`` (create a client of the config); ``call`` (the
  operation's method, ``query-bill`` → ``query_bill``, with the request
  dict); ``call_text`` (the same with ``request_text`` as JSON text);
  ``call_after_close`` (close the setup's client, then call);
  ``take_answer`` (``Client._take_answer(answer_id)``, i.e.
  ``ums_take_answer``); ``verify_notify`` (``chinaums.verify_notify(key,
  body)``); ``client_verify_notify`` (a client of the demo config + notifyKey
  = the notification's key + the case's config, then ``client.verify_notify``).
- notifications: ``valid_sha256`` / ``valid_md5``: the first ``notify_sign``
  vector with ``valid: true`` whose form_body's signType field is SHA256 /
  is absent or MD5 (its form_body as UTF-8 and its key); ``raw``: the case's
  ``body`` with the demo notifyKey.
- tampers, on the body text, pairs split on "&" and compared by their raw
  name, order kept: ``sign`` (the sign value replaced by as many "0"),
  ``drop_sign`` (the sign pair removed), ``sign_type_<X>`` (the signType value
  replaced by X), ``repeat_<name>`` (the first <name>= pair appended again).
- expect: ``class`` = the error is an instance of that class of the table's
  "classes" and of none of its descendants there (the binding's own finer
  subclasses, like BadSignatureError, are allowed); ``parents``: an instance
  of each; ``status`` = ``status_name``; ``kind``, ``field``,
  ``nothingSent``, ``outcomeUnknown``, ``phase``, ``errCode``, ``errMsg``,
  ``httpStatus``, ``settled``, ``stateField``, ``state``, ``reason`` = the
  snake_case attribute, equal including the JSON type (True is not 1);
  ``messageContains``: each string is in ``str(e)``; ``responseHas``:
  ``e.response`` is a dict with that key; ``requestsSent``: the increase of
  the simulator's ``GET /_sandbox/stats`` ``requests`` count for the
  operation's path (all paths summed when the case has no operation) over
  the action alone (read after setup and fault, and after the action).
- Anything the runner does not know (action, setup, notification, tamper,
  case member, expect member) is a mismatch, never skipped. A case that
  raises no error is a mismatch. All mismatches of all cases are listed.
"""

import datetime
import json
import os
import socket
import unittest
import urllib.request
from typing import Any, Callable, Dict, List, Optional, Tuple

import support

import chinaums
from chinaums import errors

TABLE = os.path.join(support.REPO, "tests", "data", "behaviour.json")

CASE_MEMBERS = {"name", "action", "setup", "operation", "request", "request_text", "config",
                "fault", "answer_id", "notification", "tamper", "body", "expect"}

# expect member → attribute of the Python exception.
ATTRIBUTES = {
    "status": "status_name",
    "kind": "kind",
    "field": "field",
    "nothingSent": "nothing_sent",
    "outcomeUnknown": "outcome_unknown",
    "phase": "phase",
    "errCode": "err_code",
    "errMsg": "err_msg",
    "httpStatus": "http_status",
    "settled": "settled",
    "stateField": "state_field",
    "state": "state",
    "reason": "reason",
}
SPECIAL = {"class", "parents", "messageContains", "responseHas", "requestsSent"}


class Mismatch(Exception):
    """A case could not be run as the table says (a runner-level problem)."""


def load_table() -> Dict[str, Any]:
    with open(TABLE, encoding="utf-8") as f:
        table: Dict[str, Any] = json.load(f)
    return table


def python_class(name: str) -> type:
    if name == "base":
        return errors.UmsError
    cls = getattr(errors, name + "Error", None)
    if not (isinstance(cls, type) and issubclass(cls, errors.UmsError)):
        raise Mismatch("class %r has no Python exception %sError" % (name, name))
    return cls


def same(actual: Any, expected: Any) -> bool:
    """Equal as JSON values, types included (True is not 1)."""
    return json.dumps(actual, sort_keys=True) == json.dumps(expected, sort_keys=True)


def notification_vector(kind: str) -> Tuple[str, bytes]:
    """(key, body) of the first valid notify_sign vector of that signType."""
    with open(support.VECTORS, encoding="utf-8") as f:
        vectors = json.load(f)["notify_sign"]
    wanted = {"valid_sha256": "SHA256", "valid_md5": "MD5"}[kind]
    for v in vectors:
        if v.get("valid") is not True or "form_body" not in v:
            continue
        names = dict(p.split("=", 1) for p in v["form_body"].split("&") if "=" in p)
        if names.get("signType", "MD5") == wanted:
            return v["key"], v["form_body"].encode("utf-8")
    raise Mismatch("tests/data/vectors.json has no valid %s notification" % wanted)


def tamper(body: bytes, how: str) -> bytes:
    pairs = body.decode("utf-8").split("&")

    def name(pair: str) -> str:
        return pair.split("=", 1)[0]

    def index_of(field: str) -> int:
        for i, pair in enumerate(pairs):
            if name(pair) == field:
                return i
        raise Mismatch("tamper %r: the body has no %s field" % (how, field))

    if how == "sign":
        i = index_of("sign")
        value = pairs[i].split("=", 1)[1] if "=" in pairs[i] else ""
        pairs[i] = "sign=" + "0" * len(value)
    elif how == "drop_sign":
        del pairs[index_of("sign")]
    elif how.startswith("sign_type_"):
        pairs[index_of("signType")] = "signType=" + how[len("sign_type_"):]
    elif how.startswith("repeat_"):
        pairs.append(pairs[index_of(how[len("repeat_"):])])
    else:
        raise Mismatch("unknown tamper %r" % how)
    return "&".join(pairs).encode("utf-8")


def merged(base: Dict[str, Any], overlay: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    config = dict(base)
    for key, value in (overlay or {}).items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return config


class CaseRun:
    """One case: its clients and sockets, closed by ``close()``."""

    def __init__(self, table: Dict[str, Any], sim: support.Simulator, case: Dict[str, Any]) -> None:
        self.table = table
        self.sim = sim
        self.case = case
        self.clients: List[chinaums.Client] = []
        self.sockets: List[socket.socket] = []

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for sock in self.sockets:
            sock.close()
        request = urllib.request.Request(self.sim.url + "/_sandbox/faults", method="DELETE")
        with urllib.request.urlopen(request, timeout=5) as r:
            r.read()

    def client(self, config: Dict[str, Any]) -> chinaums.Client:
        client = chinaums.Client(config)
        self.clients.append(client)
        return client

    def path(self) -> Optional[str]:
        operation = self.case.get("operation")
        if operation is None:
            return None
        if operation not in self.table["operations"]:
            raise Mismatch("operation %r is not in the table's \"operations\"" % operation)
        return str(self.table["operations"][operation]["path"])

    def requests(self) -> int:
        counts = support.sandbox_stats(self.sim.url)["requests"]
        path = self.path()
        return int(counts.get(path, 0)) if path else sum(int(n) for n in counts.values())

    def method(self, client: chinaums.Client) -> Callable[[Any], Dict[str, Any]]:
        operation = self.case.get("operation")
        if not isinstance(operation, str):
            raise Mismatch("the action needs an operation")
        method = getattr(client, operation.replace("-", "_"), None)
        if method is None:
            raise Mismatch("the Client has no method for operation %r" % operation)
        return method  # type: ignore[no-any-return]

    def setup(self) -> Tuple[Optional[chinaums.Client], Dict[str, Any]]:
        """(the setup's client, the request with the setup's values)."""
        setup = self.case.get("setup")
        request = dict(self.case.get("request") or {})
        if setup is None:
            return None, request
        if setup == "client_on_closed_port":
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sockets.append(sock)
            sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
            port = sock.getsockname()[1]
            return self.client(merged(self.sim.config(),
                                      {"environment": "http://127.0.0.1:%d" % port})), request
        if setup not in ("client", "paid_bill"):
            raise Mismatch("unknown setup %r" % setup)
        client = self.client(self.sim.config())
        if setup == "paid_bill":
            bill = {"billNo": client.new_id(),
                    "billDate": datetime.datetime.now(support.BEIJING).strftime("%Y-%m-%d"),
                    "totalAmount": 100}
            created = client.get_qrcode(bill)
            status, paid = support.sandbox_post(self.sim.url, "/_sandbox/pay",
                                                {"qrCodeId": created["qrCodeId"]})
            if status != 200:
                raise Mismatch("POST /_sandbox/pay answered %d: %r" % (status, paid))
            request["billNo"], request["billDate"] = bill["billNo"], bill["billDate"]
        for key, value in list(request.items()):
            if value == "new":
                request[key] = client.new_id()
        return client, request

    def queue_fault(self) -> None:
        fault = self.case.get("fault")
        if fault is None:
            return
        path = self.path()
        if path is None:
            raise Mismatch("a fault needs an operation")
        status, answer = support.sandbox_post(self.sim.url, "/_sandbox/faults",
                                              {"path": path, "fault": fault, "count": 1})
        if status != 200:
            raise Mismatch("POST /_sandbox/faults %s answered %d: %r" % (fault, status, answer))

    def notification(self) -> Tuple[str, bytes]:
        kind = self.case.get("notification")
        if kind == "raw":
            if "body" not in self.case:
                raise Mismatch("notification raw needs a body")
            key, body = support.DEMO_NOTIFY_KEY, str(self.case["body"]).encode("utf-8")
        elif kind in ("valid_sha256", "valid_md5"):
            key, body = notification_vector(kind)
        else:
            raise Mismatch("unknown notification %r" % kind)
        if self.case.get("tamper") is not None:
            body = tamper(body, str(self.case["tamper"]))
        return key, body

    def act(self) -> Tuple[Optional[BaseException], Any, Optional[int]]:
        """Runs the case: (the error raised or None, the result, requests sent)."""
        action = self.case.get("action")
        client, request = self.setup()
        self.queue_fault()
        thunk: Callable[[], Any]
        if action == "new_client":
            config = merged(self.sim.config(), self.case.get("config"))
            thunk = lambda: self.client(config)  # noqa: E731
        elif action in ("call", "call_text", "call_after_close"):
            if client is None:
                raise Mismatch("action %s needs a setup with a client" % action)
            method = self.method(client)
            argument: Any = request
            if action == "call_text":
                argument = str(self.case["request_text"])
            if action == "call_after_close":
                client.close()
            thunk = lambda: method(argument)  # noqa: E731
        elif action == "take_answer":
            if client is None:
                raise Mismatch("action take_answer needs a setup with a client")
            answer_client = client
            thunk = lambda: answer_client._take_answer(str(self.case["answer_id"]))  # noqa: E731
        elif action == "verify_notify":
            key, body = self.notification()
            thunk = lambda: chinaums.verify_notify(key, body)  # noqa: E731
        elif action == "client_verify_notify":
            key, body = self.notification()
            verifier = self.client(merged(self.sim.config(notifyKey=key), self.case.get("config")))
            thunk = lambda: verifier.verify_notify(body)  # noqa: E731
        else:
            raise Mismatch("unknown action %r" % action)
        before = self.requests()
        error: Optional[BaseException] = None
        result: Any = None
        try:
            result = thunk()
        except errors.UmsError as e:
            error = e
        return error, result, self.requests() - before


def check(table: Dict[str, Any], case: Dict[str, Any], error: Optional[BaseException],
          result: Any, sent: Optional[int]) -> List[str]:
    """The mismatches of one case's outcome against its expect."""
    expect: Dict[str, Any] = case["expect"]
    if error is None:
        return ["no error raised (returned %s)" % json.dumps(result, ensure_ascii=False)[:200]]
    problems: List[str] = []
    classes: Dict[str, Optional[str]] = table["classes"]

    def descendants(name: str) -> List[str]:
        found = []
        for other in classes:
            parent = classes[other]
            while parent is not None:
                if parent == name:
                    found.append(other)
                    break
                parent = classes[parent]
        return found

    for member, expected in expect.items():
        if member == "class":
            if expected not in classes:
                problems.append("class %r is not in the table's \"classes\"" % expected)
                continue
            cls = python_class(expected)
            finer = [d for d in descendants(expected) if isinstance(error, python_class(d))]
            if not isinstance(error, cls) or finer:
                problems.append("class: expected %s, got %s" % (expected, type(error).__name__))
        elif member == "parents":
            for parent in expected:
                if not isinstance(error, python_class(parent)):
                    problems.append("parents: %s is not a %s" % (type(error).__name__, parent))
        elif member == "messageContains":
            for text in expected:
                if text not in str(error):
                    problems.append("message %r lacks %r" % (str(error), text))
        elif member == "responseHas":
            response = getattr(error, "response", None)
            if not isinstance(response, dict) or expected not in response:
                problems.append("response %r has no %r" % (response, expected))
        elif member == "requestsSent":
            if not same(sent, expected):
                problems.append("requestsSent: expected %r, got %r" % (expected, sent))
        elif member in ATTRIBUTES:
            if not hasattr(error, ATTRIBUTES[member]):
                problems.append("%s: the exception has no attribute %s" % (member, ATTRIBUTES[member]))
                continue
            actual = getattr(error, ATTRIBUTES[member])
            if not same(actual, expected):
                problems.append("%s: expected %s, got %s" % (
                    member, json.dumps(expected, ensure_ascii=False),
                    json.dumps(actual, ensure_ascii=False)))
        else:
            problems.append("unknown expect member %r" % member)
    return problems


def run_table(table: Dict[str, Any], sim: support.Simulator) -> Tuple[int, List[str]]:
    """Runs every case: (cases run, one line per mismatch)."""
    mismatches: List[str] = []
    count = 0
    for case in table["cases"]:
        count += 1
        name = case.get("name", "case %d" % count)
        unknown = sorted(set(case) - CASE_MEMBERS)
        if unknown:
            mismatches.append("%s: unknown case members %s" % (name, unknown))
            continue
        if not isinstance(case.get("expect"), dict) or not case["expect"]:
            mismatches.append("%s: no expect" % name)
            continue
        run = CaseRun(table, sim, case)
        try:
            try:
                error, result, sent = run.act()
                problems = check(table, case, error, result, sent)
            finally:
                run.close()
        except Mismatch as e:
            problems = [str(e)]
        except Exception as e:  # a setup that failed: reported with the rest
            problems = ["%s: %s" % (type(e).__name__, e)]
        mismatches += ["%s: %s" % (name, p) for p in problems]
    return count, mismatches


class BehaviourTableTest(unittest.TestCase):
    sim: support.Simulator

    @classmethod
    def setUpClass(cls) -> None:
        cls.sim = support.Simulator()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.sim.stop()

    def test_every_case(self) -> None:
        table = load_table()
        count, mismatches = run_table(table, self.sim)
        print("\nbehaviour table: %d cases, %d mismatches" % (count, len(mismatches)))
        self.assertEqual(count, len(table["cases"]))
        self.assertGreater(count, 0)
        if mismatches:
            self.fail("%d mismatches with tests/data/behaviour.json:\n  %s"
                      % (len(mismatches), "\n  ".join(mismatches)))

    def test_the_runner_reports_mismatches(self) -> None:
        # A table that expects the wrong things fails, naming each problem.
        table = load_table()
        wrong = json.loads(json.dumps(table))
        first: Dict[str, Dict[str, Any]] = {}
        for case in wrong["cases"]:
            first.setdefault(case["action"], case)
        wrong["cases"] = [first["call_after_close"], first["new_client"]]
        wrong["cases"][0]["expect"] = dict(wrong["cases"][0]["expect"], kind="closed",
                                           nothingSent=1, requestsSent=1, bogus=True)
        wrong["cases"][1]["expect"] = dict(wrong["cases"][1]["expect"], **{"class": "Validation"})
        self.assertEqual(wrong["cases"][1]["expect"].get("status"), "UMS_ERR_CONFIG")
        count, mismatches = run_table(wrong, self.sim)
        self.assertEqual(count, 2)
        text = "\n".join(mismatches)
        for needle in ("kind: expected \"closed\"", "nothingSent: expected 1",
                       "requestsSent: expected 1", "unknown expect member 'bogus'",
                       "class: expected Validation, got ConfigError"):
            self.assertIn(needle, text)
        self.assertEqual(len(mismatches), 5, text)


if __name__ == "__main__":
    unittest.main()
