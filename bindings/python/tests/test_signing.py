"""Signing: the known vectors, the prepare vector used by the cross-language
identity check, and an independent check of OPEN-BODY-SIG in Python."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import unittest

import support

import chinaums
from chinaums import _native
from chinaums.errors import ValidationError

import prepare_vector


def load(kind: str) -> list:
    with open(support.VECTORS, encoding="utf-8") as f:
        return json.load(f)[kind]


def offline_client(app_id: str, app_key: str) -> chinaums.Client:
    return chinaums.Client(environment="https://gateway.invalid", app_id=app_id, app_key=app_key)


def open_body_sig(app_id: str, app_key: str, timestamp: str, nonce: str, body: bytes) -> str:
    """PROTOCOL.md §2, written independently of the library."""
    digest = hashlib.sha256(body).hexdigest()
    mac = hmac.new(app_key.encode(), (app_id + timestamp + nonce + digest).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


class SigningVectorsTest(unittest.TestCase):
    def test_open_body_sig_vectors(self) -> None:
        vectors = load("open_body_sig")
        self.assertGreaterEqual(len(vectors), 2)
        for v in vectors:
            with self.subTest(v["name"]), offline_client(v["app_id"], v["app_key"]) as c:
                signed = c.sign_body(v["body_utf8"].encode(), v["timestamp"], v["nonce"])
                self.assertIn('Signature="%s"' % v["signature"], signed["authorization"])
                self.assertEqual((signed["timestamp"], signed["nonce"]), (v["timestamp"], v["nonce"]))
                if "authorization" in v:
                    self.assertEqual(signed["authorization"], v["authorization"])
                self.assertEqual(open_body_sig(v["app_id"], v["app_key"], v["timestamp"], v["nonce"],
                                               v["body_utf8"].encode()), v["signature"])

    def test_token_signature_vectors(self) -> None:
        for v in load("token_signature"):
            with self.subTest(v["name"]), offline_client(v["app_id"], v["app_key"]) as c:
                body = c.token_request(v["timestamp"], v["nonce"])
                self.assertEqual(body["signature"], v["signature"])
                self.assertEqual(body["signMethod"], v["sign_method"])
                self.assertEqual((body["appId"], body["timestamp"], body["nonce"]),
                                 (v["app_id"], v["timestamp"], v["nonce"]))
                self.assertNotIn(v["app_key"], json.dumps(body))

    def test_fresh_timestamp_and_nonce(self) -> None:
        with offline_client("app", "key") as c:
            a, b = c.sign_body(b"{}"), c.sign_body(b"{}")
            self.assertRegex(a["timestamp"], r"^\d{14}$")
            self.assertNotEqual(a["nonce"], b["nonce"])
            self.assertEqual(a["authorization"].split("Signature=")[1].strip('"'),
                             open_body_sig("app", "key", a["timestamp"], a["nonce"], b"{}"))
            with self.assertRaises(ValidationError):
                c.sign_body(b"{}", timestamp="not-a-time")


class PrepareVectorTest(unittest.TestCase):
    def run_script(self) -> str:
        out = subprocess.run([sys.executable, os.path.join(support.HERE, "prepare_vector.py")],
                             env=support.subprocess_env(), capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        return out.stdout.decode("utf-8")

    def test_script_prints_the_library_document_as_one_line(self) -> None:
        line = self.run_script()
        self.assertTrue(line.endswith("\n") and line.count("\n") == 1)
        with chinaums.Client(prepare_vector.CONFIG) as c:
            lib = _native.library()
            status, raw = _native.call_raw(lib.ums_prepare, c._handle, b"update-qrcode",
                                           prepare_vector.REQUEST.encode(),
                                           prepare_vector.TIMESTAMP.encode(), prepare_vector.NONCE.encode())
        self.assertEqual(status, 0)
        self.assertEqual(line.rstrip("\n"), raw)  # the dict round trip changes no byte
        self.assertEqual(self.run_script(), line)  # and it is reproducible

    def test_prepared_request_content(self) -> None:
        prepared = json.loads(self.run_script())
        self.assertEqual(prepared["url"], "https://gateway.invalid/v1/netpay/bills/update-qrcode")
        self.assertEqual(prepared["path"], "/v1/netpay/bills/update-qrcode")
        body = json.loads(prepared["body"])
        self.assertEqual(body["totalAmount"], 26)  # sent as a number
        self.assertEqual(body["goods"][0]["goodsName"], "鸡蛋")  # sent as real JSON
        self.assertEqual(base64.b64decode(body["name"]).decode(), "张*三")  # real name Base64
        self.assertEqual(body["requestTimestamp"], "2026-01-02 03:04:05")
        self.assertEqual((body["mid"], body["tid"], body["instMid"]),
                         ("898340149000005", "00000001", "QRPAYDEFAULT"))
        config = prepare_vector.CONFIG
        signature = open_body_sig(config["appId"], config["appKey"], prepare_vector.TIMESTAMP,
                                  prepare_vector.NONCE, prepared["body"].encode("utf-8"))
        self.assertEqual(
            prepared["authorization"],
            'OPEN-BODY-SIG AppId="%s", Timestamp="%s", Nonce="%s", Signature="%s"'
            % (config["appId"], prepare_vector.TIMESTAMP, prepare_vector.NONCE, signature))

    def test_dict_and_text_requests_prepare_the_same(self) -> None:
        with chinaums.Client(prepare_vector.CONFIG) as c:
            as_text = c.prepare("update-qrcode", prepare_vector.REQUEST,
                                prepare_vector.TIMESTAMP, prepare_vector.NONCE)
            as_dict = c.prepare("/v1/netpay/bills/update-qrcode", json.loads(prepare_vector.REQUEST),
                                prepare_vector.TIMESTAMP, prepare_vector.NONCE)
        self.assertEqual(as_text, as_dict)


if __name__ == "__main__":
    unittest.main()
