"""Notification verification with the known vectors, and the reply text."""

import hashlib
import json
import unittest
from urllib.parse import parse_qsl, quote_plus

import support

import chinaums
from chinaums.errors import (
    BadSignatureError,
    DuplicateFieldError,
    MalformedNotificationError,
    MissingSignError,
    NotificationError,
    UnknownSignTypeError,
)


def load_vectors() -> list:
    with open(support.VECTORS, encoding="utf-8") as f:
        return json.load(f)["notify_sign"]


def signed_form(fields: list, key: str, sign_type: str) -> bytes:
    """A form body signed as ChinaUMS does: the non-empty fields but `sign`,
    sorted, `k=v&...` + key, MD5 or SHA256, uppercase hex."""
    text = "&".join("%s=%s" % (k, v) for k, v in sorted(fields) if v) + key
    digest = (hashlib.md5 if sign_type == "MD5" else hashlib.sha256)(text.encode()).hexdigest()
    pairs = ["%s=%s" % (quote_plus(k), quote_plus(v)) for k, v in fields]
    return ("&".join(pairs) + "&sign=" + digest.upper()).encode("ascii")


def params_form(params: dict, sign: str) -> bytes:
    """A form body of a `params` vector with its expected sign appended."""
    pairs = ["%s=%s" % (quote_plus(k), quote_plus(v)) for k, v in params.items()]
    pairs.append("sign=" + sign)
    return "&".join(pairs).encode("ascii")


class NotifyVectorsTest(unittest.TestCase):
    vectors = load_vectors()

    def assert_no_key(self, key: str, *texts: str) -> None:
        for text in texts:
            self.assertNotIn(key, text, "the notification key leaked")

    def test_there_are_vectors_of_every_kind(self) -> None:
        self.assertGreaterEqual(len(self.vectors), 6)
        self.assertTrue(any(v.get("valid") is True for v in self.vectors))
        self.assertTrue(any(v.get("valid") is False for v in self.vectors))
        self.assertTrue(any("md5_upper" in v for v in self.vectors))

    def test_form_body_vectors(self) -> None:
        checked = 0
        for v in self.vectors:
            if "form_body" not in v:
                continue
            body = v["form_body"].encode("ascii")
            fields = dict(parse_qsl(v["form_body"], keep_blank_values=True))
            with self.subTest(v["name"]):
                if v["valid"]:
                    result = chinaums.verify_notify(v["key"], body)
                    self.assertIs(result["valid"], True)
                    self.assertEqual(result["notifyId"], fields["notifyId"])
                    self.assertEqual(result["signType"], fields.get("signType", "MD5"))
                    self.assertEqual(result["fields"]["mid"], fields["mid"])
                    self.assert_no_key(v["key"], json.dumps(result))
                    if "billPayment" in fields:  # JSON text fields come parsed
                        self.assertEqual(result["fields"]["billPayment"], json.loads(fields["billPayment"]))
                else:
                    with self.assertRaises(BadSignatureError) as caught:
                        chinaums.verify_notify(v["key"], body)
                    e = caught.exception
                    self.assertEqual((e.status, e.reason), (13, "bad_signature"))
                    self.assert_no_key(v["key"], str(e), json.dumps(e.document))
                checked += 1
        self.assertGreaterEqual(checked, 4)

    def test_params_vectors_md5(self) -> None:
        checked = 0
        for v in self.vectors:
            if "params" not in v or "md5_upper" not in v:
                continue
            with self.subTest(v["name"]):
                for sign in (v["md5_upper"], v["md5_upper"].lower()):  # compared case-insensitively
                    result = chinaums.verify_notify(v["key"], params_form(v["params"], sign))
                    self.assertEqual(result["signType"], "MD5")
                    self.assertEqual(result["fields"]["billNo"], v["params"]["billNo"])
                tampered = dict(v["params"], billNo=v["params"]["billNo"] + "1")
                with self.assertRaises(BadSignatureError):
                    chinaums.verify_notify(v["key"], params_form(tampered, v["md5_upper"]))
                checked += 1
        self.assertGreaterEqual(checked, 1)

    def test_valid_md5_and_sha256_are_both_covered(self) -> None:
        kinds = set()
        for v in self.vectors:
            if v.get("valid") and "form_body" in v:
                kinds.add(chinaums.verify_notify(v["key"], v["form_body"].encode())["signType"])
        self.assertEqual(kinds, {"MD5", "SHA256"})

    def test_wrong_key(self) -> None:
        valid = next(v for v in self.vectors if v.get("valid") and "form_body" in v)
        with self.assertRaises(BadSignatureError):
            chinaums.verify_notify(valid["key"][:-1] + "Z", valid["form_body"].encode())

    def test_each_notification_error(self) -> None:
        key = support.DEMO_NOTIFY_KEY
        cases = [
            (b"a=1&b=2", MissingSignError, 14, "missing_sign"),
            (b"a=1&sign=ABC&signType=RSA", UnknownSignTypeError, 15, "unknown_sign_type"),
            (b"a=1&a=2&sign=ABC", DuplicateFieldError, 16, "duplicate_field"),
            (b"a=%ZZ&sign=ABC", MalformedNotificationError, 17, "malformed"),
            (b"\xff=1&sign=ABC", MalformedNotificationError, 17, "malformed"),
            (b"", MalformedNotificationError, 17, "malformed"),
            (b"a=1&sign=ABC", BadSignatureError, 13, "bad_signature"),
        ]
        for body, cls, status, reason in cases:
            with self.subTest(body=body):
                with self.assertRaises(cls) as caught:
                    chinaums.verify_notify(key, body)
                e = caught.exception
                self.assertIsInstance(e, NotificationError)
                self.assertEqual((e.status, e.reason), (status, reason))
                self.assertNotIn(key, str(e) + json.dumps(e.document))

    def test_body_types(self) -> None:
        v = next(v for v in self.vectors if v.get("valid") and "form_body" in v)
        body = v["form_body"]
        for raw in (body, body.encode(), bytearray(body.encode()), memoryview(body.encode())):
            self.assertTrue(chinaums.verify_notify(v["key"], raw)["valid"])
        with self.assertRaises(TypeError):
            chinaums.verify_notify(v["key"], 42)  # type: ignore[arg-type]

    def test_client_method_takes_the_key(self) -> None:
        v = next(v for v in self.vectors if v.get("valid") and "form_body" in v)
        with chinaums.Client(support.demo_config("https://gateway.invalid")) as c:
            self.assertTrue(c.verify_notify(v["form_body"].encode(), notify_key=v["key"])["valid"])
            self.assertEqual(c.notify_reply(True), "SUCCESS")

    def test_client_method_uses_the_configured_key_and_policy(self) -> None:
        fields = [("mid", support.MID), ("notifyId", "n-1"), ("totalAmount", "26")]
        sha = signed_form(fields + [("signType", "SHA256")], support.DEMO_NOTIFY_KEY, "SHA256")
        md5 = signed_form(fields + [("signType", "MD5")], support.DEMO_NOTIFY_KEY, "MD5")
        # The configured notifyKey (the demo key); both types by default.
        # Verification is local: the gateway named is never contacted.
        offline = "https://gateway.invalid"
        with chinaums.Client(support.demo_config(offline, notifyKey=support.DEMO_NOTIFY_KEY)) as c:
            self.assertEqual(c.verify_notify(sha)["signType"], "SHA256")
            self.assertEqual(c.verify_notify(md5)["signType"], "MD5")
            self.assertEqual(c.verify_notify(md5)["notifyId"], "n-1")
            with self.assertRaises(BadSignatureError):
                c.verify_notify(md5.replace(b"totalAmount=26", b"totalAmount=27"))
        # notifySignTypes ["SHA256"]: MD5 refused before any digest is made.
        with chinaums.Client(support.demo_config(offline, notifyKey=support.DEMO_NOTIFY_KEY,
                                                 notifySignTypes=["SHA256"])) as c:
            self.assertTrue(c.verify_notify(sha)["valid"])
            with self.assertRaises(UnknownSignTypeError) as caught:
                c.verify_notify(md5)
            self.assertNotIn(support.DEMO_NOTIFY_KEY, str(caught.exception))
            # With an explicit key the module-level function is used (no policy).
            self.assertTrue(c.verify_notify(md5, notify_key=support.DEMO_NOTIFY_KEY)["valid"])
        # A client without a notifyKey says so.
        with chinaums.Client(support.local_config(1)) as c:
            with self.assertRaises(chinaums.ConfigError) as caught2:
                c.verify_notify(sha)
            self.assertEqual(caught2.exception.field, "notifyKey")

    def test_notify_reply(self) -> None:
        self.assertEqual(chinaums.notify_reply(True), "SUCCESS")
        self.assertEqual(chinaums.notify_reply(False), "FAILED")


if __name__ == "__main__":
    unittest.main()
