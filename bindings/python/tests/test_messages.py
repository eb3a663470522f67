"""Every exception's message carries what people read in logs: the gateway's
errCode AND errMsg when it answered, the field for configuration and
validation errors. Checked for every exception class from documents, and
live against the simulator, including an uncaught exception's last line."""

import subprocess
import sys
import textwrap
import unittest

import support
from support import SEED_QR, today

import chinaums
from chinaums import errors
from chinaums.errors import (
    ConfigError,
    GatewayRejectedError,
    OutcomeUnknownError,
    UmsError,
    ValidationError,
)


def assert_gateway_words(test: unittest.TestCase, e: UmsError) -> None:
    """str(e) names the gateway's errCode and errMsg, both non-empty."""
    test.assertTrue(e.err_code, e.document)
    test.assertTrue(e.err_msg, e.document)
    test.assertIn("errCode %s: %s" % (e.err_code, e.err_msg), str(e))


class EveryClassTest(unittest.TestCase):
    def test_every_status_shows_err_code_err_msg_and_field(self) -> None:
        # The library's message never repeats errMsg or the field's name here,
        # so the binding must add both.
        for status, name in errors.STATUS_NAMES.items():
            if status == 0:
                continue
            with self.subTest(name):
                e = errors.error_from_status(status, {
                    "status": name, "message": "it failed", "field": "billDesc",
                    "errCode": "DUP_ORDER", "errMsg": "账单号重复"})
                self.assertIn("errCode DUP_ORDER: 账单号重复", str(e))
                self.assertIn("field 'billDesc'", str(e))

    def test_err_msg_alone_is_shown(self) -> None:
        e = errors.error_from_status(12, {"message": "the token endpoint refused",
                                          "errMsg": "appId 不存在"})
        self.assertIn("errMsg appId 不存在", str(e))


class LiveTest(support.SandboxClientTestCase):
    def bill(self) -> dict:
        return {"qrCodeId": SEED_QR, "billNo": self.client.new_id(), "billDate": today(),
                "totalAmount": 26}

    def test_duplicate_bill(self) -> None:
        request = self.bill()
        self.client.update_qrcode(request)
        with self.assertRaises(GatewayRejectedError) as caught:
            self.client.update_qrcode(request)
        self.assertIn("(errCode DUP_ORDER: 账单号重复)", str(caught.exception))

    def test_outcome_unknown_with_an_err_code(self) -> None:
        status, answer = support.sandbox_post(self.client.info["baseUrl"], "/_sandbox/faults", {
            "path": "/v1/netpay/bills/update-qrcode", "fault": "errcode-TIMEOUT", "count": 1})
        self.assertEqual(status, 200, answer)
        with self.assertRaises(OutcomeUnknownError) as caught:
            self.client.update_qrcode(self.bill())
        self.assertEqual(caught.exception.err_code, "TIMEOUT")
        assert_gateway_words(self, caught.exception)

    def test_validation_names_the_field(self) -> None:
        request = self.bill()
        request["totalAmount"] = -5
        with self.assertRaises(ValidationError) as caught:
            self.client.update_qrcode(request)
        self.assertEqual(caught.exception.field, "totalAmount")
        self.assertIn("totalAmount", str(caught.exception))

    def test_config_names_the_key(self) -> None:
        with self.assertRaises(ConfigError) as caught:
            chinaums.Client(environment=support.sandbox_url(), app_id=support.DEMO_APP_ID)
        self.assertEqual(caught.exception.field, "appKey")
        self.assertIn("appKey", str(caught.exception))

    def test_an_uncaught_exception_shows_err_code_and_err_msg(self) -> None:
        # What a log shows when nobody catches it: the traceback's last line.
        script = textwrap.dedent("""
            import sys
            import chinaums
            client = chinaums.Client(environment=sys.argv[1], app_id=sys.argv[2],
                                     app_key=sys.argv[3], msg_src_id="3194",
                                     mid="898340149000005", tid="00000001")
            request = {"qrCodeId": sys.argv[4], "billNo": client.new_id(),
                       "billDate": sys.argv[5], "totalAmount": 26}
            client.update_qrcode(request)
            client.update_qrcode(request)
        """)
        done = subprocess.run(
            [sys.executable, "-c", script, support.sandbox_url(), support.DEMO_APP_ID,
             support.DEMO_APP_KEY, SEED_QR, today()],
            env=support.subprocess_env(PYTHONIOENCODING="utf-8"), capture_output=True,
            timeout=60)
        self.assertEqual(done.returncode, 1, done.stderr)
        last = done.stderr.decode("utf-8").strip().splitlines()[-1]
        self.assertTrue(last.startswith("chinaums.errors.GatewayRejectedError: gateway_rejected: "),
                        last)
        self.assertIn("(errCode DUP_ORDER: 账单号重复)", last)


if __name__ == "__main__":
    unittest.main()
