"""The simulator's web console in a real headless Chromium.

Starts ums-sandbox ($UMS_SANDBOX) and a notification receiver that verifies
every notification with the Python binding ($UMS_LIBRARY); creates a bill
with the binding's client; opens the console in Chromium (Debian's
/usr/bin/chromium, driven by /usr/bin/chromedriver over the W3C WebDriver
protocol, spoken here with the standard library only); finds the bill,
pays it by clicking its "Customer pays" button; sees the notification
delivered to the receiver (signature verified) and shown as delivered in
the console; saves a screenshot (argument 1, default build/console.png).
Then a page of another origin (the receiver's port) makes the browser post
the console's pay form and a no-cors fetch to /_sandbox/pay for a second
bill: both are refused (403 FORBIDDEN_ORIGIN) and the bill stays UNPAID.

Everything listens on 127.0.0.1 only; the browser runs with a new empty
profile and without any network service of its own.
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "bindings", "python", "src"))

import chinaums  # noqa: E402  (the binding, loaded from $UMS_LIBRARY)

DEMO_NOTIFY_KEY = "fcAmtnx7MwismjWNhNKdHC44mNXtnEQeJkRrhKJwyrW2ysRR"
DEMO_CONFIG = {
    "appId": "10037e6f66f2d0f901672aa27d690006",
    "appKey": "47ace12ae3b348fe93ab46cee97c6fde",
    "mid": "898340149000005",
    "tid": "00000001",
    "msgSrcId": "3194",
}
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
# How long the browser and the delivery may take, at most (a bound, not a
# pause: every wait below ends as soon as its condition holds).
DEADLINE_S = 60
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class Failure(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sandbox():
    binary = os.environ.get("UMS_SANDBOX") or os.path.join(REPO, "target", "release", "ums-sandbox")
    child = subprocess.Popen([binary, "--port", "0", "--quiet"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    first = child.stdout.readline().strip()
    prefix = "ums-sandbox listening on "
    if not first.startswith(prefix):
        child.kill()
        raise Failure("ums-sandbox did not start: %r" % first)
    # Keep reading stdout so that the simulator never blocks on it.
    threading.Thread(target=child.stdout.read, daemon=True).start()
    return child, first[len(prefix):]


class Receiver:
    """The merchant's notifyUrl: verifies each notification with the binding
    and answers SUCCESS only when the signature holds."""

    def __init__(self):
        self.verified = []
        self.refused = []
        self.arrived = threading.Event()
        # The page of "another site" (GET /evil), set by the test.
        self.evil_page = b""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                data = receiver.evil_page
                self.send_response(200 if data else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    note = chinaums.verify_notify(DEMO_NOTIFY_KEY, raw)
                except chinaums.UmsError as error:
                    receiver.refused.append(str(error))
                    answer = chinaums.notify_reply(False)
                else:
                    receiver.verified.append(note)
                    answer = chinaums.notify_reply(True)
                    receiver.arrived.set()
                data = answer.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/notify" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Browser:
    """Chromium through chromedriver's W3C WebDriver endpoint."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="ums-console-chromium-")
        port = free_port()
        self.driver = subprocess.Popen([CHROMEDRIVER, "--port=%d" % port],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = "http://127.0.0.1:%d" % port
        self._wait_for_driver()
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1250",
                 "--user-data-dir=" + self.profile]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": flags},
        }}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _wait_for_driver(self):
        deadline = time.monotonic() + DEADLINE_S
        while True:
            try:
                with urllib.request.urlopen(self.base + "/status", timeout=2) as reply:
                    if json.load(reply)["value"].get("ready"):
                        return
            except (OSError, ValueError, KeyError):
                pass
            if self.driver.poll() is not None or time.monotonic() > deadline:
                raise Failure("chromedriver did not start")
            time.sleep(0.05)

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=DEADLINE_S) as reply:
                return json.load(reply)["value"]
        except urllib.error.HTTPError as error:
            raise Failure("WebDriver %s %s: %s" % (method, path, error.read().decode(errors="replace")))

    def _s(self, path):
        return "/session/%s%s" % (self.session, path)

    def open(self, url):
        self._call("POST", self._s("/url"), {"url": url})

    def find(self, css):
        """The first element matching `css`, or None."""
        found = self._call("POST", self._s("/elements"), {"using": "css selector", "value": css})
        return found[0][ELEMENT] if found else None

    def wait_for(self, css):
        """Waits (the page reloads itself while a notification is pending)
        until an element matches `css`; returns it."""
        deadline = time.monotonic() + DEADLINE_S
        while True:
            element = self.find(css)
            if element:
                return element
            if time.monotonic() > deadline:
                raise Failure("no element %s in the console" % css)
            time.sleep(0.1)

    def click(self, element):
        self._call("POST", self._s("/element/%s/click" % element), {})

    def url(self):
        return self._call("GET", self._s("/url"))

    def source(self):
        return self._call("GET", self._s("/source"))

    def wait_until(self, what, condition):
        deadline = time.monotonic() + DEADLINE_S
        while not condition():
            if time.monotonic() > deadline:
                raise Failure("timed out waiting for %s" % what)
            time.sleep(0.1)

    def attribute(self, element, name):
        return self._call("GET", self._s("/element/%s/attribute/%s" % (element, name)))

    def screenshot(self, path):
        png = base64.b64decode(self._call("GET", self._s("/screenshot")))
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as out:
            out.write(png)

    def quit(self):
        try:
            self._call("DELETE", self._s(""))
        finally:
            self.driver.terminate()
            self.driver.wait(timeout=DEADLINE_S)
            shutil.rmtree(self.profile, ignore_errors=True)


def run(screenshot_path):
    sandbox, base_url = start_sandbox()
    receiver = Receiver()
    browser = None
    try:
        config = dict(DEMO_CONFIG, environment=base_url)
        with chinaums.Client(config) as client:
            bill_no = client.new_id()
            got = client.get_qrcode({
                "billNo": bill_no, "totalAmount": 2600, "billDesc": "two coffees (console test)",
                "notifyUrl": receiver.url,
            })
        if got.get("errCode") != "SUCCESS":
            raise Failure("get-qrcode: %r" % got)
        browser = Browser()
        browser.open(base_url + "/")
        row = browser.wait_for('tr.bill[data-bill-no="%s"]' % bill_no)
        if browser.attribute(row, "data-status") != "UNPAID":
            raise Failure("the new bill is not UNPAID in the console")
        browser.click(browser.wait_for('button[id="pay-%s"]' % bill_no))
        if not receiver.arrived.wait(DEADLINE_S):
            raise Failure("no verified notification reached the receiver (refused: %r)" % receiver.refused)
        note = receiver.verified[0]
        fields = note["fields"]
        if fields.get("billNo") != bill_no or fields.get("billStatus") != "PAID":
            raise Failure("the notification is not this bill's payment: %r" % fields)
        delivered = 'tr.notification[data-bill-no="%s"][data-status="delivered"]' % bill_no
        browser.wait_for(delivered)
        browser.open(base_url + "/")
        browser.wait_for('tr.bill[data-bill-no="%s"][data-status="PAID"]' % bill_no)
        browser.wait_for(delivered)
        browser.screenshot(screenshot_path)
        if receiver.refused:
            raise Failure("the receiver refused a notification: %r" % receiver.refused)
        forged_payments_are_refused(browser, base_url, receiver, config)
        print("console test: bill %s paid in Chromium; notification %s verified by the receiver "
              "and shown delivered; a page of another origin could not pay (403 FORBIDDEN_ORIGIN); "
              "screenshot %s" % (bill_no, note.get("notifyId"), screenshot_path))
    finally:
        if browser:
            browser.quit()
        receiver.stop()
        sandbox.terminate()
        sandbox.wait(timeout=DEADLINE_S)


EVIL_PAGE = """<!doctype html><meta charset=utf-8><title>another site</title>
<form id=pay method=post action="%(sandbox)s/console/pay">
<input name=qrCodeId value="%(qr)s"><input name=amount value="100"></form>
<script>
fetch("%(sandbox)s/_sandbox/pay", {method: "POST", mode: "no-cors",
    body: JSON.stringify({qrCodeId: "%(qr)s", amount: 100})})
  .catch(function () {})
  .then(function () { document.getElementById("pay").submit(); });
</script>"""


def forged_payments_are_refused(browser, base_url, receiver, config):
    """A page of another origin posts the pay form and fetches /_sandbox/pay
    for a new bill: the browser sends its Origin, the simulator refuses both,
    and the bill stays unpaid."""
    with chinaums.Client(config) as client:
        bill_no = client.new_id()
        got = client.get_qrcode({"billNo": bill_no, "totalAmount": 100})
        receiver.evil_page = (EVIL_PAGE % {"sandbox": base_url, "qr": got["qrCodeId"]}).encode()
        evil_url = receiver.url.replace("/notify", "/evil")
        browser.open(evil_url)
        # The fetch ran first; the form post then lands on the refusal.
        browser.wait_until("the forged form post",
                           lambda: browser.url().startswith(base_url + "/console/pay"))
        if "FORBIDDEN_ORIGIN" not in browser.source():
            raise Failure("the forged form post was not refused: %s" % browser.source()[:300])
        status = client.query_bill({"billNo": bill_no, "billDate": got["billDate"]})["billStatus"]
    if status != "UNPAID":
        raise Failure("a forged cross-origin request paid the bill (%s)" % status)


def main():
    screenshot = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build", "console.png")
    try:
        run(screenshot)
    except Failure as failure:
        print("console test FAILED: %s" % failure, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
