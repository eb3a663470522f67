"""Finding and checking libums, and logging. (The ctypes declarations are
checked against include/ums.h in test_header.py.)"""

import ctypes.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

import support

import chinaums
from chinaums import _native
from chinaums.errors import UmsError, UmsLibraryNotFound, UmsLibraryVersionError

PROBE = """
import sys, chinaums
try:
    chinaums.version()  # loads the library
except ImportError as e:
    print(type(e).__name__)
    print(e)
    sys.exit(3)
print("loaded", chinaums.library_path())
"""


def run_probe(env: dict, pythonpath: str = support.SRC) -> subprocess.CompletedProcess:
    env = dict(env)
    env["PYTHONPATH"] = pythonpath
    env.pop("LD_LIBRARY_PATH", None)
    return subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=60)


class LoadingTest(unittest.TestCase):
    def test_version_is_checked(self) -> None:
        self.assertEqual(_native.EXPECTED_VERSION, (0, 1))
        self.assertTrue(chinaums.version().startswith("0.1."))
        self.assertEqual(os.path.realpath(chinaums.library_path()),
                         os.path.realpath(os.environ["UMS_LIBRARY"]))

    def test_library_not_found_lists_every_place(self) -> None:
        if ctypes.util.find_library("ums"):
            self.skipTest("a libums is installed on this system")
        missing = os.path.join(tempfile.gettempdir(), "no-such-dir", "libums.so")
        out = run_probe(dict(os.environ, UMS_LIBRARY=missing))
        self.assertEqual(out.returncode, 3, out.stdout + out.stderr)
        name, message = out.stdout.split("\n", 1)
        self.assertEqual(name, "UmsLibraryNotFound")
        self.assertTrue(issubclass(UmsLibraryNotFound, ImportError))
        beside = os.path.join(support.SRC, "chinaums", "libums.so")
        for place in ("UMS_LIBRARY=" + missing, beside, 'find_library("ums")', "libums.so.0",
                      "make lib"):
            self.assertIn(place, message)
        env = dict(os.environ)
        env.pop("UMS_LIBRARY")
        out = run_probe(env)
        self.assertIn("UMS_LIBRARY: not set", out.stdout)

    def test_library_next_to_the_package(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            package = os.path.join(tmp, "chinaums")
            shutil.copytree(os.path.join(support.SRC, "chinaums"), package,
                            ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copy(os.environ["UMS_LIBRARY"], os.path.join(package, "libums.so"))
            env = dict(os.environ)
            env.pop("UMS_LIBRARY")
            out = run_probe(env, pythonpath=tmp)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertEqual(out.stdout.strip(), "loaded " + os.path.join(package, "libums.so"))

    def test_wrong_version_is_refused(self) -> None:
        cc = shutil.which("gcc") or shutil.which("cc")
        if not cc:
            self.skipTest("no C compiler to build a fake libums")
        with tempfile.TemporaryDirectory() as tmp:
            source = os.path.join(tmp, "fake.c")
            with open(source, "w") as f:
                f.write('const char *ums_version(void) { return "9.3.1"; }\n')
            fake = os.path.join(tmp, "libums.so")
            subprocess.run([cc, "-shared", "-fPIC", "-o", fake, source], check=True, timeout=60)
            out = run_probe(dict(os.environ, UMS_LIBRARY=fake))
        self.assertEqual(out.returncode, 3, out.stdout + out.stderr)
        self.assertTrue(out.stdout.startswith("UmsLibraryVersionError\n"))
        self.assertIn("9.3.1", out.stdout)
        self.assertIn("0.1", out.stdout)
        self.assertTrue(issubclass(UmsLibraryVersionError, ImportError))

    def test_errors_module_needs_no_library(self) -> None:
        code = "import chinaums.errors as e; print(e.UmsError.__name__)"
        env = dict(os.environ, UMS_LIBRARY="/nonexistent/libums.so", PYTHONPATH=support.SRC)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.stdout.strip(), "UmsError", out.stderr)


class LoggingTest(unittest.TestCase):
    def setUp(self) -> None:
        self.records: list = []
        self.logger = logging.getLogger("chinaums.test")
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)

        class Collect(logging.Handler):
            def emit(inner, record: logging.LogRecord) -> None:
                self.records.append(record)

        self.handler = Collect()
        self.logger.addHandler(self.handler)

    def tearDown(self) -> None:
        chinaums.disable_logging()
        self.logger.removeHandler(self.handler)

    def test_log_lines_are_forwarded_without_secrets(self) -> None:
        chinaums.enable_logging(logging.INFO, self.logger)
        with chinaums.Client(support.sandbox_config()) as c:
            bill = {"qrCodeId": support.SEED_QR, "billNo": c.new_id(), "billDate": support.today(),
                    "totalAmount": 26, "name": "张秘密"}
            c.update_qrcode(bill)
            messages = [r.getMessage() for r in self.records]
            self.assertTrue(any("/v1/netpay/bills/update-qrcode" in m for m in messages), messages)
            self.assertTrue(all(r.levelno >= logging.INFO for r in self.records))
            for m in messages:
                self.assertNotIn(support.DEMO_APP_KEY, m)
                self.assertNotIn("张秘密", m)
            chinaums.disable_logging()
            count = len(self.records)
            c.update_qrcode(dict(bill, billNo=c.new_id()))
            self.assertEqual(len(self.records), count)

    def test_a_call_from_a_log_handler_gets_its_own_buffer(self) -> None:
        # Each thread reuses one output buffer; a call made from a log handler
        # while the library is still inside a call on this thread must not
        # share it with that outer call.
        with chinaums.Client(support.sandbox_config()) as c:
            inner: list = []

            class SignOnLog(logging.Handler):
                def emit(inner_self, record: logging.LogRecord) -> None:
                    inner.append(c.sign_body(b"{}", "20260102030405", "n" * 32)["authorization"])

            handler = SignOnLog()
            self.logger.addHandler(handler)
            try:
                chinaums.enable_logging(logging.INFO, self.logger)
                bill = {"qrCodeId": support.SEED_QR, "billNo": c.new_id(),
                        "billDate": support.today(), "totalAmount": 26}
                answer = c.update_qrcode(bill)
            finally:
                chinaums.disable_logging()
                self.logger.removeHandler(handler)
            self.assertEqual(answer["errCode"], "SUCCESS")
            self.assertEqual(answer["billNo"], bill["billNo"])
            expected = c.sign_body(b"{}", "20260102030405", "n" * 32)["authorization"]
            self.assertTrue(inner, "the handler ran")
            self.assertTrue(all(a == expected for a in inner), inner)

    def test_a_log_handler_may_reinstall_logging_and_call_an_operation(self) -> None:
        # The library runs the log callback with no lock held: a handler that
        # re-installs the callback and runs an operation (once, guarded) must
        # not deadlock, and the outer call completes.
        c = chinaums.Client(support.sandbox_config())
        nested: list = []
        logger = self.logger

        class Reenter(logging.Handler):
            def emit(inner_self, record: logging.LogRecord) -> None:
                if nested:
                    return
                nested.append("entered")
                chinaums.enable_logging(logging.DEBUG, logger)
                try:
                    c.query_bill({"billNo": c.new_id(), "billDate": support.today()})
                    nested.append("SUCCESS")
                except UmsError as e:  # an unknown bill: the gateway's refusal
                    nested.append(e.err_code or e.status_name)

        handler = Reenter()
        self.logger.addHandler(handler)
        done = threading.Event()
        result: list = []
        bill = {"qrCodeId": support.SEED_QR, "billNo": c.new_id(),
                "billDate": support.today(), "totalAmount": 26}

        def outer() -> None:
            try:
                result.append(c.update_qrcode(bill))
            except Exception as e:  # reported below
                result.append(e)
            done.set()

        try:
            chinaums.enable_logging(logging.DEBUG, self.logger)
            threading.Thread(target=outer, daemon=True).start()
            finished = done.wait(60)  # a guard against a deadlock, not a sleep
        finally:
            chinaums.disable_logging()
            self.logger.removeHandler(handler)
        self.assertTrue(finished, "the outer call deadlocked")
        c.close()
        self.assertEqual(len(result), 1)
        self.assertIsInstance(result[0], dict, result[0])
        self.assertEqual(result[0]["billNo"], bill["billNo"])
        self.assertEqual(len(nested), 2, nested)
        self.assertEqual(nested[0], "entered")
        self.assertIn(nested[1], ("SUCCESS", "NO_ORDER"), nested)


if __name__ == "__main__":
    unittest.main()
