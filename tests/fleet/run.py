#!/usr/bin/env python3
"""The fleet test: many OS processes, one appId, one token store.

ChinaUMS keeps at most 10 valid access tokens per appId; each new one
invalidates the oldest. A fleet of processes that each fetch their own token
pushes each other's tokens out. With ``"tokenStore": "redis://..."`` the
processes share one token; this test proves it against one ``ums-sandbox``
(whose ``/_sandbox/stats`` counts, per appId, tokens issued, tokens
invalidated by the 10-token rule, tokens expired and 401s answered).

    python3 tests/fleet/run.py C_WORKER        (make test-fleet builds C_WORKER)

Environment: UMS_SANDBOX (the simulator), UMS_LIBRARY (libums.so); needs
redis-server, php (with FFI) and python3 >= 3.8. Stdlib only.

Scenarios (each on a fresh simulator, with a freshly emptied Redis):

1. fleet, Redis store: 50 worker processes (C through the ABI, Python and
   PHP through their bindings, interleaved) in token mode with
   ``"tokenStore": "redis://127.0.0.1:PORT/0"``. Each makes CALLS calls per
   phase (get-qrcode of its own one-off bill first, bills/query after); the
   orchestrator moves the simulator clock past the token lifetime between
   phases, so every phase is a new expiry window. Asserts: 0 calls failed,
   0 401s reached a caller, tokens issued <= windows + 1, 0 tokens
   invalidated by the 10-token rule.
2. the same fleet with ``"tokenStore": "memory"`` (each process its own
   token): tokens invalidated by the 10-token rule > 0. This is the proof
   that scenario 1 can fail.
3. php-fpm style: 12 PHP processes, one client and one call each, started
   together, Redis store: exactly 1 token issued.
4. notifications: 8 receiver processes behind one loopback relay; the
   relay loses the receivers' first two answers of each notification, so the
   simulator retries (to other receivers); each notifyId must be processed
   exactly once (``ums_notify_claim``, claims in Redis) and every attempt
   answered SUCCESS.

Synchronisation is by blocking reads of pipes and sockets only (selectors
with a deadline): workers print "ready", the orchestrator writes
"phase K" to every worker's stdin and reads one "done K ..." line from each.
Every process started here is stopped at the end, also on failure or signal.
The last line is "N passed, N failed"; the exit status is 1 on any failure.
"""

import datetime
import http.client
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

APP_ID = "10037e6f66f2d0f901672aa27d690006"
APP_KEY = "47ace12ae3b348fe93ab46cee97c6fde"  # the simulator's public demo key
NOTIFY_KEY = "fcAmtnx7MwismjWNhNKdHC44mNXtnEQeJkRrhKJwyrW2ysRR"
MID, TID, MSG_SRC, MSG_SRC_ID = "898340149000005", "00000001", "WWW.TEST.COM", "3194"

WORKERS = 50
PHASES = 5                   # expiry windows: the clock moves PHASES - 1 times
CALLS_PER_PHASE = 5
TOKEN_LIFETIME_SECS = 300    # the client refreshes after 150 s of real time: never in this run
PHP_FPM_PROCESSES = 12
RECEIVERS = 8
NOTIFICATIONS = 12
DROPPED_ANSWERS = 2          # per notifyId: the simulator sends each 3 times

STEP_TIMEOUT = 60.0          # any one wait (start-up, a phase, shutdown)


class Failure(Exception):
    """A scenario cannot go on; the message says why."""


# -- processes ----------------------------------------------------------------

def die_with_parent():
    """In the child before exec: SIGKILL when the orchestrator dies, even by
    SIGKILL (Linux PR_SET_PDEATHSIG). The orchestrator has no threads, so
    preexec_fn is safe here."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Child:
    """A process started here, with line-based reading of its stdout."""

    def __init__(self, name, argv, env=None, stdin=True, log_dir=None):
        self.name = name
        self.log_path = os.path.join(log_dir, name.replace("/", "_") + ".stderr") if log_dir else None
        err = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        try:
            self.popen = subprocess.Popen(
                argv, env=env, cwd=REPO,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=err, preexec_fn=die_with_parent)
        finally:
            if err is not subprocess.DEVNULL:
                err.close()
        REGISTRY.append(self)
        os.set_blocking(self.popen.stdout.fileno(), False)
        self.buf = b""
        self.lines = []
        self.eof = False

    def fileno(self):
        return self.popen.stdout.fileno()

    def feed(self):
        """Reads what is there (never blocks: the fd is non-blocking)."""
        try:
            data = os.read(self.fileno(), 65536)
        except BlockingIOError:
            return
        if not data:
            self.eof = True
            if self.buf:
                self.lines.append(self.buf.decode("utf-8", "replace"))
                self.buf = b""
            return
        self.buf += data
        *complete, self.buf = self.buf.split(b"\n")
        self.lines.extend(c.decode("utf-8", "replace").rstrip("\r") for c in complete)

    def send(self, line):
        try:
            self.popen.stdin.write(line.encode() + b"\n")
            self.popen.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it died: its missing answer is reported

    def close_stdin(self):
        try:
            if self.popen.stdin:
                self.popen.stdin.close()
        except OSError:
            pass

    def stop(self):
        if self.popen.poll() is None:
            self.popen.kill()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.popen.stdin, self.popen.stdout):
            try:
                if f:
                    f.close()
            except OSError:
                pass

    def stderr_tail(self, n=5):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return " | ".join(lines[-n:])


REGISTRY = []


def stop_all():
    while REGISTRY:
        REGISTRY.pop().stop()


def next_lines(children, deadline):
    """One line from each child (None for a child that ended first), by
    blocking reads with a deadline. Returns {child: line}."""
    got = {}
    waiting = []
    for c in children:
        if c.lines:
            got[c] = c.lines.pop(0)
        elif c.eof:
            got[c] = None
        else:
            waiting.append(c)
    if not waiting:
        return got
    sel = selectors.DefaultSelector()
    try:
        for c in waiting:
            sel.register(c, selectors.EVENT_READ)
        pending = set(waiting)
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("timed out waiting for %s" % ", ".join(sorted(c.name for c in pending)[:5]))
            for key, _ in sel.select(timeout=left):
                c = key.fileobj
                c.feed()
                if c.lines or c.eof:
                    got[c] = c.lines.pop(0) if c.lines else None
                    pending.discard(c)
                    sel.unregister(c)
    finally:
        sel.close()
    return got


def next_line(child, deadline):
    return next_lines([child], deadline)[child]


def wait_exit(children, deadline):
    """Exit codes; a child still running at the deadline is killed (-9)."""
    codes = {}
    for c in children:
        try:
            codes[c] = c.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            c.popen.kill()
            codes[c] = c.popen.wait()
    return codes


# -- simulator, Redis ---------------------------------------------------------

def http_json(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        data = None if body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read().decode("utf-8"))
    finally:
        conn.close()


class Sandbox:
    def __init__(self, log_dir, name):
        exe = os.environ["UMS_SANDBOX"]
        self.child = Child(name, [exe, "--port", "0", "--quiet", "--token-lifetime-secs", str(TOKEN_LIFETIME_SECS)],
                           stdin=False, log_dir=log_dir)
        first = next_line(self.child, time.monotonic() + STEP_TIMEOUT)
        prefix = "ums-sandbox listening on http://127.0.0.1:"
        if not first or not first.startswith(prefix):
            raise Failure("ums-sandbox did not start: %r %s" % (first, self.child.stderr_tail()))
        self.port = int(first[len(prefix):])
        self.url = "http://127.0.0.1:%d" % self.port

    def stats(self):
        status, body = http_json(self.port, "GET", "/_sandbox/stats")
        if status != 200:
            raise Failure("GET /_sandbox/stats: HTTP %d" % status)
        return body

    def app_stats(self):
        return self.stats()["perApp"][APP_ID]

    def advance(self, seconds):
        status, body = http_json(self.port, "POST", "/_sandbox/clock", {"advanceSeconds": seconds})
        if status != 200:
            raise Failure("POST /_sandbox/clock: HTTP %d %s" % (status, body))

    def stop(self):
        self.child.stop()
        if self.child in REGISTRY:
            REGISTRY.remove(self.child)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """redis-server on a free loopback port, no persistence."""

    def __init__(self, log_dir):
        exe = shutil.which("redis-server")
        if not exe:
            raise Failure("redis-server not found (scripts/setup installs it; Debian: apt-get install redis-server)")
        last = ""
        for attempt in range(5):  # the free port may be taken before redis binds it
            port = free_port()
            child = Child("redis-%d" % attempt,
                          [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                           "--daemonize", "no", "--dir", log_dir, "--protected-mode", "yes"],
                          stdin=False, log_dir=log_dir)
            deadline = time.monotonic() + STEP_TIMEOUT
            while True:
                line = next_line(child, deadline)
                if line is None:
                    break
                last = line
                if "Ready to accept connections" in line:
                    self.child, self.port = child, port
                    self.url = "redis://127.0.0.1:%d/0" % port
                    return
            child.stop()
        raise Failure("redis-server did not start: %s" % last)

    def command(self, *args):
        """One RESP command; returns the first reply line."""
        payload = b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(payload)
            reply = b""
            while not reply.endswith(b"\r\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.decode("utf-8", "replace").strip()

    def flush(self):
        reply = self.command("FLUSHALL")
        if reply != "+OK":
            raise Failure("redis FLUSHALL answered %r" % reply)

    def dbsize(self):
        return self.command("DBSIZE")


# -- workers ------------------------------------------------------------------

def beijing_now():
    return datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8)))


def client_config(sandbox_url, store):
    return {
        "environment": sandbox_url, "appId": APP_ID, "appKey": APP_KEY,
        "mid": MID, "tid": TID, "msgSrc": MSG_SRC, "msgSrcId": MSG_SRC_ID, "notifyKey": NOTIFY_KEY,
        "auth": "token", "tokenStore": store, "timeoutMs": 20000,
    }


def worker_env(config):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("UMS_") or k in ("UMS_LIBRARY", "UMS_SANDBOX")}
    env["FLEET_CONFIG"] = json.dumps(config)
    env["PYTHONPATH"] = os.path.join(REPO, "bindings", "python", "src")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


KINDS = ("c", "python", "php")


def worker_argv(kind, c_worker):
    if kind == "c":
        return [c_worker]
    if kind == "python":
        return [sys.executable, os.path.join(HERE, "worker.py")]
    return ["php", os.path.join(HERE, "worker.php")]


def start_workers(kinds, config, calls, c_worker, log_dir, tag):
    """Starts one worker per entry of `kinds`; returns them once all are ready."""
    env = worker_env(config)
    stamp = beijing_now()
    bill_date = stamp.strftime("%Y-%m-%d")
    prefix = MSG_SRC_ID + stamp.strftime("%Y%m%d%H%M%S") + "%03d" % (stamp.microsecond // 1000)
    workers = []
    for i, kind in enumerate(kinds):
        bill_no = "%s%07d" % (prefix, i)  # 28 characters, unique in this simulator
        argv = worker_argv(kind, c_worker) + ["%s-%d" % (kind, i), str(calls), bill_no, bill_date, str(i + 1)]
        workers.append(Child("%s-%s-%02d" % (tag, kind, i), argv, env=env, log_dir=log_dir))
    lines = next_lines(workers, time.monotonic() + STEP_TIMEOUT)
    fatal = [(w, l) for w, l in lines.items() if not (l or "").startswith("ready ")]
    return workers, fatal


def parse_done(line):
    """'done K ok=N failed=N unauthorized=N err=...' -> dict."""
    head, _, err = line.partition(" err=")
    fields = dict(p.split("=", 1) for p in head.split()[2:])
    return {"ok": int(fields["ok"]), "failed": int(fields["failed"]),
            "unauthorized": int(fields["unauthorized"]), "err": err}


def run_phases(workers, sandbox, phases):
    """Runs the phases; returns per-worker totals and the first errors."""
    totals = {w: {"ok": 0, "failed": 0, "unauthorized": 0, "phases": 0, "exit": None} for w in workers}
    errors = []
    for phase in range(phases):
        if phase:
            sandbox.advance(TOKEN_LIFETIME_SECS + 1)  # every token of the last window has expired
        for w in workers:
            w.send("phase %d" % phase)
        for w, line in next_lines(workers, time.monotonic() + STEP_TIMEOUT).items():
            if line is None or not line.startswith("done %d " % phase):
                errors.append("%s: %r %s" % (w.name, line, w.stderr_tail()))
                continue
            done = parse_done(line)
            for k in ("ok", "failed", "unauthorized"):
                totals[w][k] += done[k]
            totals[w]["phases"] += 1
            if done["err"] != "-":
                errors.append("%s phase %d: %s" % (w.name, phase, done["err"]))
    for w in workers:
        w.close_stdin()
    codes = wait_exit(workers, time.monotonic() + STEP_TIMEOUT)
    for w, code in codes.items():
        totals[w]["exit"] = code
        if code != 0:
            errors.append("%s exited with %s %s" % (w.name, code, w.stderr_tail()))
    return totals, errors


# -- reporting ----------------------------------------------------------------

class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print("%s %s%s" % ("ok  " if ok else "FAIL", name, " (%s)" % detail if detail else ""), flush=True)

    def note(self, text):
        print("     " + text, flush=True)


def fleet_kinds(n):
    return [KINDS[i % len(KINDS)] for i in range(n)]


def run_fleet(report, redis, store_label, c_worker, log_dir):
    """Scenarios 1 and 2: returns the simulator's per-app counts and the totals."""
    sandbox = Sandbox(log_dir, "sandbox-" + store_label)
    try:
        redis.flush()
        store = redis.url if store_label == "redis" else "memory"
        kinds = fleet_kinds(WORKERS)
        started = time.monotonic()
        workers, fatal = start_workers(kinds, client_config(sandbox.url, store), CALLS_PER_PHASE,
                                       c_worker, log_dir, store_label)
        mix = ", ".join("%d %s" % (kinds.count(k), k) for k in KINDS)
        report.note("fleet, tokenStore %s: %d processes (%s), %d phases x %d calls, clock +%d s between phases"
                    % (store if store == "memory" else "redis://127.0.0.1:%d/0" % redis.port, len(workers), mix,
                       PHASES, CALLS_PER_PHASE, TOKEN_LIFETIME_SECS + 1))
        if fatal:
            for w, line in fatal[:3]:
                report.note("%s did not start: %s %s" % (w.name, line, w.stderr_tail()))
            raise Failure("%d of %d workers did not start (first: %s)" % (len(fatal), len(workers), fatal[0][1]))
        totals, errors = run_phases(workers, sandbox, PHASES)
        app = sandbox.app_stats()
        stats = sandbox.stats()
        elapsed = time.monotonic() - started
    finally:
        sandbox.stop()
    expected = WORKERS * PHASES * CALLS_PER_PHASE
    made = sum(t["ok"] + t["failed"] for t in totals.values())
    failed = sum(t["failed"] for t in totals.values())
    reached = sum(t["unauthorized"] for t in totals.values())
    broken = sum(1 for t in totals.values() if t["phases"] != PHASES or t["exit"] != 0)
    report.note("calls %d of %d, failed %d, 401s that reached a caller %d; simulator: tokens issued %d, "
                "invalidated by the 10-token rule %d, expired %d, 401s answered %d, token requests %d; %.1f s"
                % (made, expected, failed, reached, app["tokensIssued"], app["tokensInvalidatedByLimit"],
                   app["tokensExpired"], app["unauthorized"], stats["requests"].get("/v1/token/access", 0),
                   elapsed))
    for e in errors[:3]:
        report.note("first errors: " + e[:300])
    return {"made": made, "expected": expected, "failed": failed, "reached": reached, "app": app,
            "errors": errors, "broken": broken}


def scenario_redis_fleet(report, redis, c_worker, log_dir):
    r = run_fleet(report, redis, "redis", c_worker, log_dir)
    app = r["app"]
    report.check("redis fleet: every call made, every worker ran every phase and exited 0",
                 r["made"] == r["expected"] and r["broken"] == 0,
                 "%d of %d calls, %d workers broken" % (r["made"], r["expected"], r["broken"]))
    report.check("redis fleet: 0 calls failed", r["failed"] == 0, "%d failed" % r["failed"])
    report.check("redis fleet: 0 401s reached a caller", r["reached"] == 0,
                 "%d reached callers, %d answered and handled by the library" % (r["reached"], app["unauthorized"]))
    report.check("redis fleet: tokens issued <= expiry windows + 1", app["tokensIssued"] <= PHASES + 1,
                 "%d issued, %d windows" % (app["tokensIssued"], PHASES))
    report.check("redis fleet: 0 tokens invalidated by the 10-token rule", app["tokensInvalidatedByLimit"] == 0,
                 "%d invalidated" % app["tokensInvalidatedByLimit"])


def scenario_memory_fleet(report, redis, c_worker, log_dir):
    r = run_fleet(report, redis, "memory", c_worker, log_dir)
    app = r["app"]
    report.check("memory fleet: every call made, every worker ran every phase and exited 0",
                 r["made"] == r["expected"] and r["broken"] == 0,
                 "%d of %d calls, %d workers broken" % (r["made"], r["expected"], r["broken"]))
    report.check("memory fleet (one token per process): tokens invalidated by the 10-token rule > 0",
                 app["tokensInvalidatedByLimit"] > 0,
                 "%d invalidated, %d issued, %d calls failed" % (app["tokensInvalidatedByLimit"],
                                                                app["tokensIssued"], r["failed"]))


def scenario_php_fpm(report, redis, log_dir):
    sandbox = Sandbox(log_dir, "sandbox-php-fpm")
    try:
        redis.flush()
        started = time.monotonic()
        workers, fatal = start_workers(["php"] * PHP_FPM_PROCESSES, client_config(sandbox.url, redis.url), 1,
                                       None, log_dir, "fpm")
        report.note("php-fpm style: %d PHP processes, one client and one call each, released together, "
                    "tokenStore redis" % len(workers))
        if fatal:
            raise Failure("%d of %d PHP processes did not start (first: %s %s)"
                          % (len(fatal), len(workers), fatal[0][1], fatal[0][0].stderr_tail()))
        totals, errors = run_phases(workers, sandbox, 1)
        app = sandbox.app_stats()
        elapsed = time.monotonic() - started
    finally:
        sandbox.stop()
    ok = sum(t["ok"] for t in totals.values())
    report.note("calls ok %d of %d; simulator: tokens issued %d, 401s answered %d; %.1f s"
                % (ok, PHP_FPM_PROCESSES, app["tokensIssued"], app["unauthorized"], elapsed))
    for e in errors[:3]:
        report.note("first errors: " + e)
    report.check("php-fpm style: every call succeeded, every process exited 0",
                 ok == PHP_FPM_PROCESSES and not errors,
                 "%d of %d" % (ok, PHP_FPM_PROCESSES))
    report.check("php-fpm style: exactly 1 token issued", app["tokensIssued"] == 1, "%d issued" % app["tokensIssued"])


def scenario_notifications(report, redis, log_dir):
    sandbox = Sandbox(log_dir, "sandbox-notify")
    try:
        redis.flush()
        started = time.monotonic()
        config = client_config(sandbox.url, redis.url)
        config["claimStore"] = redis.url
        env = worker_env(config)
        receivers = [Child("receiver-%d" % i, [sys.executable, os.path.join(HERE, "receiver.py"), str(i)],
                           env=env, log_dir=log_dir) for i in range(RECEIVERS)]
        ports = []
        for r, line in sorted(next_lines(receivers, time.monotonic() + STEP_TIMEOUT).items(),
                              key=lambda item: item[0].name):
            if not (line or "").startswith("listening "):
                raise Failure("%s did not start: %r %s" % (r.name, line, r.stderr_tail()))
            ports.append(line.split()[1])
        relay = Child("relay", [sys.executable, os.path.join(HERE, "relay.py"), str(DROPPED_ANSWERS)] + ports,
                      env=env, log_dir=log_dir)
        line = next_line(relay, time.monotonic() + STEP_TIMEOUT)
        if not (line or "").startswith("listening "):
            raise Failure("the relay did not start: %r %s" % (line, relay.stderr_tail()))
        notify_url = "http://127.0.0.1:%s/notify" % line.split()[1]
        report.note("notifications: %d receivers (Python, claims in Redis) behind one relay at %s; the relay "
                    "loses the first %d answers of each notification" % (RECEIVERS, notify_url, DROPPED_ANSWERS))

        stamp = beijing_now()
        maker = Child("make-bills", [sys.executable, os.path.join(HERE, "worker.py"), "--make-bills",
                                     str(NOTIFICATIONS), notify_url, stamp.strftime("%Y-%m-%d"),
                                     MSG_SRC_ID + stamp.strftime("%Y%m%d%H%M%S") + "%03d" % (stamp.microsecond // 1000)],
                      env=env, stdin=False, log_dir=log_dir)
        line = next_line(maker, time.monotonic() + STEP_TIMEOUT)
        if not (line or "").startswith("bills "):
            raise Failure("making the bills failed: %r %s" % (line, maker.stderr_tail()))
        wait_exit([maker], time.monotonic() + STEP_TIMEOUT)
        notify_ids = set()
        for item in line.split()[1:]:
            qr_code_id, _bill_no, amount = item.split(":")
            status, paid = http_json(sandbox.port, "POST", "/_sandbox/pay",
                                     {"qrCodeId": qr_code_id, "amount": int(amount)})
            if status != 200 or not paid.get("notifyId"):
                raise Failure("POST /_sandbox/pay: HTTP %d %s" % (status, paid))
            notify_ids.add(paid["notifyId"])

        # Every attempt, as the relay settles it, until each notification
        # has been answered (blocking reads of the relay's pipe).
        attempts = {n: [] for n in notify_ids}
        answered = set()
        deadline = time.monotonic() + STEP_TIMEOUT
        while answered != notify_ids:
            line = next_line(relay, deadline)
            if line is None:
                raise Failure("the relay ended: %s" % relay.stderr_tail())
            _, notify_id, n, receiver, reply, outcome = line.split(" ", 5)
            attempts.setdefault(notify_id, []).append((int(n), receiver, reply[len("reply="):], outcome))
            if outcome == "answered" and reply == "reply=SUCCESS":
                answered.add(notify_id)
        # The simulator's own record (delivered once the answer was read).
        records = {}
        for _ in range(100):  # bounded: the relay printed "answered" after the simulator closed
            status, listed = http_json(sandbox.port, "GET", "/_sandbox/notifications")
            records = {d["notifyId"]: d for d in listed["notifications"]}
            if all(records.get(n, {}).get("status") == "delivered" for n in notify_ids):
                break
        for c in receivers + [relay]:
            c.close_stdin()
        processed, duplicates, other, stores = {}, 0, [], {}
        for r in receivers:
            deadline = time.monotonic() + STEP_TIMEOUT
            while True:
                line = next_line(r, deadline)
                if line is None:
                    break
                if line.startswith("processed ") or line.startswith("duplicate "):
                    kind, notify_id, store = line.split()[:3]
                    store = store[len("store="):]
                    stores[store] = stores.get(store, 0) + 1
                    if kind == "processed":
                        processed[notify_id] = processed.get(notify_id, 0) + 1
                    else:
                        duplicates += 1
                else:
                    other.append("%s: %s" % (r.name, line))
        codes = wait_exit(receivers + [relay], time.monotonic() + STEP_TIMEOUT)
        elapsed = time.monotonic() - started
    finally:
        sandbox.stop()
    all_attempts = [a for n in notify_ids for a in attempts.get(n, [])]
    receivers_used = {a[1] for a in all_attempts}
    spread = sum(1 for n in notify_ids if len({a[1] for a in attempts.get(n, [])}) > 1)
    report.note("notifications %d, attempts %d (%d per notification expected), receivers reached %d of %d, "
                "notifications whose attempts reached 2+ receivers %d, "
                "processed %d, duplicates answered SUCCESS %d, claim answers by store %s; %.1f s"
                % (len(notify_ids), len(all_attempts), DROPPED_ANSWERS + 1, len(receivers_used), RECEIVERS, spread,
                   sum(processed.values()), duplicates,
                   " ".join("%s=%d" % kv for kv in sorted(stores.items())) or "-", elapsed))
    for line in other[:3]:
        report.note("unexpected receiver output: " + line)
    report.check("notifications: each notifyId processed exactly once",
                 all(processed.get(n) == 1 for n in notify_ids) and set(processed) == notify_ids,
                 "%d of %d processed once" % (sum(1 for n in notify_ids if processed.get(n) == 1), len(notify_ids)))
    report.check("notifications: every claim answered by Redis (shared by the 8 processes)",
                 set(stores) == {"redis"}, " ".join("%s=%d" % kv for kv in sorted(stores.items())) or "none")
    report.check("notifications: every attempt (retries included) answered SUCCESS by a receiver",
                 all(a[2] == "SUCCESS" for a in all_attempts) and not other,
                 "%d of %d" % (sum(1 for a in all_attempts if a[2] == "SUCCESS"), len(all_attempts)))
    report.check("notifications: each one retried by the simulator (%d attempts) and delivered"
                 % (DROPPED_ANSWERS + 1),
                 all(records.get(n, {}).get("status") == "delivered"
                     and records[n].get("attempts") == DROPPED_ANSWERS + 1 for n in notify_ids),
                 "%d of %d" % (sum(1 for n in notify_ids if records.get(n, {}).get("status") == "delivered"
                                   and records[n].get("attempts") == DROPPED_ANSWERS + 1), len(notify_ids)))
    report.check("notifications: receivers and relay exited cleanly", all(c == 0 for c in codes.values()),
                 ", ".join("%s=%s" % (c.name, v) for c, v in codes.items() if v != 0) or "all 0")


# -- main ---------------------------------------------------------------------

def main(argv):
    if len(argv) != 1:
        print("usage: run.py C_WORKER", file=sys.stderr)
        return 2
    c_worker = os.path.abspath(argv[0])
    for name in ("UMS_SANDBOX", "UMS_LIBRARY"):
        if not os.environ.get(name):
            print("%s is not set (the Makefile exports it)" % name, file=sys.stderr)
            print("0 passed, 1 failed")
            return 1
    report = Report()
    log_dir = tempfile.mkdtemp(prefix="ums-fleet-")
    started = time.monotonic()
    redis = None
    try:
        redis = Redis(log_dir)
        for name, scenario in (
                ("redis fleet", lambda: scenario_redis_fleet(report, redis, c_worker, log_dir)),
                ("memory fleet", lambda: scenario_memory_fleet(report, redis, c_worker, log_dir)),
                ("php-fpm style", lambda: scenario_php_fpm(report, redis, log_dir)),
                ("notifications", lambda: scenario_notifications(report, redis, log_dir))):
            try:
                scenario()
            except Failure as e:
                report.check("%s: ran to the end" % name, False, str(e))
            finally:
                # Workers of a failed scenario: stop them before the next one.
                for c in list(REGISTRY):
                    if c is not getattr(redis, "child", None):
                        c.stop()
                        REGISTRY.remove(c)
    except Failure as e:
        report.check("setup", False, str(e))
    finally:
        stop_all()
        shutil.rmtree(log_dir, ignore_errors=True)
    print("fleet test: %.1f s" % (time.monotonic() - started))
    print("%d passed, %d failed" % (report.passed, report.failed))
    return 1 if report.failed else 0


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    sys.exit(main(sys.argv[1:]))
