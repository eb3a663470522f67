"""What a Python user would pick instead: the Python binding end to end vs. a
straightforward `requests` client, against the same ums-sandbox.

    PYTHONPATH=bindings/python/src UMS_LIBRARY=target/release/libums.so \\
        python3 benches/python/bench_e2e.py http://127.0.0.1:PORT [ROUNDS] [ROUND_SECONDS] [CAFILE]

(CAFILE: an https:// URL's CA, trusted by all three clients; scripts/bench-link.)

Every call is the seed update-qrcode (the doc page's request) with a fresh
billNo, signed OPEN-BODY-SIG, checked for errCode SUCCESS:

  py.e2e.binding           chinaums.Client.update_qrcode(dict): one client,
                           kept-alive connection; the library fills
                           requestTimestamp, normalises, validates and signs
  py.e2e.requests_post     hashlib/hmac/base64 signing in Python and
                           requests.post() per call, as the official Python SDK
                           does (a new connection each call)
  py.e2e.requests_session  the same with one requests.Session (kept alive)

The `requests` client sends the request already in wire form (goods as a
JSON array, amount as an integer, real-name fields Base64-encoded once, by
hand) and checks nothing, which is what such a hand-written client does;
the binding takes the doc page's request as written and does all of that per
call. The three run interleaved, one second each per round, so a slow moment
of the machine hits all three alike; each row is the median over rounds.
Prints JSON lines {"row":..,"value":..,"unit":"calls/s"}.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import median, row_value  # noqa: E402

import requests  # noqa: E402

import chinaums  # noqa: E402

APP_ID = "10037e6f66f2d0f901672aa27d690006"
APP_KEY = "47ace12ae3b348fe93ab46cee97c6fde"
PATH = "/v1/netpay/bills/update-qrcode"
SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                    "update_qrcode_seed.json")
BEIJING = datetime.timezone(datetime.timedelta(hours=8))


def load_seed():
    with open(SEED, encoding="utf-8") as f:
        seed = json.load(f)
    seed.pop("expireTime", None)  # the doc page's date is in the past by now
    seed["billDate"] = datetime.datetime.now(BEIJING).strftime("%Y-%m-%d")
    return seed


# -- the hand-written client ---------------------------------------------------

def open_body_sig(app_id, app_key, body):
    """Authorization: OPEN-BODY-SIG, as the ChinaUMS docs describe it."""
    timestamp = datetime.datetime.now(BEIJING).strftime("%Y%m%d%H%M%S")
    nonce = uuid.uuid4().hex
    digest = hashlib.sha256(body).hexdigest()
    message = (app_id + timestamp + nonce + digest).encode("utf-8")
    signature = base64.b64encode(
        hmac.new(app_key.encode("utf-8"), message, hashlib.sha256).digest()).decode("ascii")
    return ('OPEN-BODY-SIG AppId="%s", Timestamp="%s", Nonce="%s", Signature="%s"'
            % (app_id, timestamp, nonce, signature))


def wire_template(seed):
    """The request in the shape the gateway wants, converted by hand once."""
    wire = dict(seed)
    wire["totalAmount"] = int(wire["totalAmount"])
    wire["goods"] = json.loads(wire["goods"])
    wire["retCommParams"] = json.loads(wire["retCommParams"])
    for field in ("name", "mobile", "certNo"):
        wire[field] = base64.b64encode(wire[field].encode("utf-8")).decode("ascii")
    for field in [k for k, v in wire.items() if v == ""]:
        del wire[field]
    return wire


def requests_call(post, url, template, bill_no, verify=True):
    request = dict(template)
    request["billNo"] = bill_no
    request["requestTimestamp"] = datetime.datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    body = json.dumps(request, ensure_ascii=False).encode("utf-8")
    headers = {"Authorization": open_body_sig(APP_ID, APP_KEY, body),
               "Content-Type": "application/json;charset=UTF-8"}
    answer = post(url + PATH, data=body, headers=headers, timeout=30, verify=verify).json()
    if answer.get("errCode") != "SUCCESS":
        raise RuntimeError("requests client: %s" % answer)
    return answer


# -- the run -------------------------------------------------------------------

def main():
    url = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    round_s = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    ca_file = sys.argv[4] if len(sys.argv) > 4 else None
    seed = load_seed()
    wire = wire_template(seed)
    run_id = "%08d" % (os.getpid() % 100_000_000)
    counter = [0]

    def bill_no(kind):
        counter[0] += 1
        return "3194" + run_id + kind + "%015d" % counter[0]  # 28 characters

    config = {"environment": url, "appId": APP_ID, "appKey": APP_KEY}
    if ca_file:
        config["caFile"] = ca_file
    client = chinaums.Client(config)
    verify = ca_file or True
    session = requests.Session()

    def binding():
        request = dict(seed)
        request["billNo"] = bill_no("1")
        client.update_qrcode(request)

    def requests_post():
        requests_call(requests.post, url, wire, bill_no("2"), verify)

    def requests_session():
        requests_call(session.post, url, wire, bill_no("3"), verify)

    modes = [("py.e2e.binding", binding), ("py.e2e.requests_post", requests_post),
             ("py.e2e.requests_session", requests_session)]
    for _, fn in modes:  # warm-up, and a check that every variant succeeds
        for _ in range(20):
            fn()
    rates = {name: [] for name, _ in modes}
    for _ in range(rounds):
        for name, fn in modes:
            n, t = 0, time.perf_counter()
            deadline = t + round_s
            while time.perf_counter() < deadline:
                fn()
                n += 1
            rates[name].append(n / (time.perf_counter() - t))
    for name, _ in modes:
        row_value(name, median(rates[name]), "calls/s",
                  rounds=[round(r, 1) for r in rates[name]])
    client.close()
    session.close()


if __name__ == "__main__":
    main()
