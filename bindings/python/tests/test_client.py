"""The Client against the ums-sandbox simulator (one process for the test
run, see support.simulator()) and against local servers that misbehave on
purpose."""

import ctypes
import gc
import json
import os
import threading
import time
import unittest
from unittest import mock

import support
from support import MID, SEED_QR, TID, today

import chinaums
from chinaums import _native
from chinaums.errors import (
    AnswerGoneError,
    ClientClosedError,
    ConfigError,
    GatewayRejectedError,
    OperationFailedError,
    OutcomeUnknownError,
    PendingError,
    TlsError,
    TransportError,
    UmsError,
    ValidationError,
)


def not_supported_yet(error: UmsError) -> bool:
    """The simulator answers HTTP 404 NO_SERVICE for operations it does not
    implement yet; the full assertions switch on by themselves once it does."""
    return (isinstance(error, GatewayRejectedError) and error.err_code == "NO_SERVICE"
            and error.http_status == 404)


class SandboxTestCase(support.SandboxClientTestCase):
    def new_bill(self) -> dict:
        return {"qrCodeId": SEED_QR, "billNo": self.client.new_id(), "billDate": today(),
                "totalAmount": "26"}

    def requests_to(self, path: str) -> int:
        stats = support.sandbox_stats(self.client.info["baseUrl"])
        return int(stats["requests"].get(path, 0))


class OperationsTest(SandboxTestCase):
    def test_update_qrcode(self) -> None:
        request = self.new_bill()
        answer = self.client.update_qrcode(request)
        self.assertEqual(answer["errCode"], "SUCCESS")
        self.assertEqual(answer["billNo"], request["billNo"])
        self.assertEqual(answer["billDate"], request["billDate"])
        self.assertIn(SEED_QR, answer["billQRCode"])
        # Defaults from the config were filled in and echoed back.
        self.assertEqual((answer["mid"], answer["tid"]), (MID, TID))

    def test_update_qrcode_from_json_text(self) -> None:
        request = self.new_bill()
        answer = self.client.update_qrcode(json.dumps(request))
        self.assertEqual(answer["billNo"], request["billNo"])

    def test_get_qrcode(self) -> None:
        bill_no = self.client.new_id()
        answer = self.client.get_qrcode({"billNo": bill_no, "billDate": today(), "totalAmount": 1})
        self.assertEqual(answer["errCode"], "SUCCESS")
        self.assertEqual(answer["billNo"], bill_no)
        self.assertTrue(answer["qrCodeId"])
        self.assertIn(answer["qrCodeId"], answer["billQRCode"])

    def check_operation(self, name: str, request: dict, full_check) -> None:
        """Calls one operation: either the full assertions pass, or the
        simulator does not have it yet and the call must still have reached
        the gateway and mapped to GatewayRejectedError(NO_SERVICE)."""
        method = getattr(self.client, name)
        try:
            answer = method(request)
        except UmsError as e:
            if not_supported_yet(e):
                self.assertFalse(e.nothing_sent, name)
                self.assertEqual(e.response, {"errCode": "NO_SERVICE", "errMsg": e.err_msg})
                return
            full_check(None, e)
            return
        full_check(answer, None)

    def test_every_other_operation(self) -> None:
        bill_no = self.client.new_id()
        created = self.client.get_qrcode({"billNo": bill_no, "billDate": today(), "totalAmount": 5})
        code, system_id = created["qrCodeId"], created["systemId"]
        unknown = "3194" + "0" * 24

        def success(answer, error, **expected):
            self.assertIsNone(error, "expected SUCCESS, got %r" % (error,))
            self.assertEqual(answer["errCode"], "SUCCESS")
            for key, value in expected.items():
                self.assertEqual(answer[key], value, key)

        def rejected(answer, error):
            # An unpaid bill / unknown trade: the gateway must refuse.
            self.assertIsNone(answer, "expected a rejection, got %r" % (answer,))
            self.assertIsInstance(error, GatewayRejectedError)
            self.assertNotEqual(error.err_code, "SUCCESS")

        cases = [
            ("query_qrcode_info", {"qrCodeId": code, "systemId": system_id},
             lambda a, e: success(a, e, billNo=bill_no)),
            ("query_bill", {"billNo": bill_no, "billDate": today()},
             lambda a, e: success(a, e, billNo=bill_no)),
            ("refund", {"billNo": bill_no, "billDate": today(), "refundAmount": 1,
                        "refundOrderId": self.client.new_id()}, rejected),
            ("preauth_complete", {"billNo": bill_no, "billDate": today(), "authedOrderId": unknown,
                                  "authIdRespCd": "123456", "totalAmount": 5, "authedDesc": "t"},
             rejected),
            ("preauth_cancel", {"billNo": bill_no, "billDate": today(), "cancelOrderId": unknown,
                                "authIdRespCd": "123456"}, rejected),
            ("secure_cancel", {"merOrderId": unknown}, rejected),
            ("secure_complete", {"merOrderId": unknown, "completedAmount": 1}, rejected),
            ("close_qrcode", {"qrCodeId": code}, lambda a, e: success(a, e, qrCodeId=code)),
        ]
        for name, request, check in cases:
            with self.subTest(operation=name):
                self.check_operation(name, request, check)

    def test_every_operation_validates_before_sending(self) -> None:
        names = ["get_qrcode", "update_qrcode", "close_qrcode", "query_bill", "refund",
                 "query_qrcode_info", "preauth_complete", "preauth_cancel", "secure_cancel",
                 "secure_complete"]
        for name in names:
            with self.subTest(operation=name):
                with self.assertRaises(ValidationError) as caught:
                    getattr(self.client, name)({"mid": "short"})
                self.assertTrue(caught.exception.nothing_sent)
                self.assertTrue(caught.exception.field)

    def test_call_with_a_service_path(self) -> None:
        request = self.new_bill()
        answer = self.client.call("/v1/netpay/bills/update-qrcode", request)
        self.assertEqual(answer["billNo"], request["billNo"])
        with self.assertRaises(GatewayRejectedError) as caught:
            self.client.call("/v1/netpay/no-such-service", {"a": 1})
        self.assertEqual((caught.exception.err_code, caught.exception.http_status), ("NO_SERVICE", 404))

    def test_call_text_returns_the_answer_as_received(self) -> None:
        request = self.new_bill()
        text = self.client.call_text("/v1/netpay/bills/update-qrcode", json.dumps(request))
        self.assertIsInstance(text, str)
        self.assertTrue(text.startswith("{") and '"errCode":"SUCCESS"' in text, text)
        self.assertEqual(json.loads(text)["billNo"], request["billNo"])
        with self.assertRaises(GatewayRejectedError) as caught:
            self.client.call_text("/v1/netpay/no-such-service", '{"a":1}')
        self.assertEqual((caught.exception.err_code, caught.exception.http_status), ("NO_SERVICE", 404))

    def test_call_rejects_a_bad_path(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            self.client.call("not-a-path", {"a": 1})
        self.assertEqual(caught.exception.status, 5)

    def test_data_envelope_is_prepared_inside(self) -> None:
        inner = self.new_bill()
        prepared = self.client.prepare("/v1/netpay/bills/update-qrcode", {"data": inner})
        sent = json.loads(prepared["body"])
        self.assertEqual(list(sent), ["data"])
        self.assertEqual(sent["data"]["mid"], MID)  # defaults filled inside
        self.assertEqual(sent["data"]["totalAmount"], 26)  # normalised inside
        with self.assertRaises(ValidationError) as caught:
            self.client.prepare("update-qrcode", {"data": dict(inner, walletOption="X")})
        self.assertEqual(caught.exception.field, "walletOption")

    def test_new_id(self) -> None:
        ids = {self.client.new_id() for _ in range(500)}
        self.assertEqual(len(ids), 500)
        for i in ids:
            self.assertEqual(len(i), 28)
            self.assertTrue(i.startswith("3194") and i.isdigit(), i)

    def test_new_id_needs_msg_src_id(self) -> None:
        with chinaums.Client(environment="https://gateway.invalid", app_id="a", app_key="k") as c:
            with self.assertRaises(ConfigError) as caught:
                c.new_id()
            self.assertEqual(caught.exception.field, "msgSrcId")


class ErrorsTest(SandboxTestCase):
    def test_validation_names_the_field(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            self.client.update_qrcode(dict(self.new_bill(), walletOption="TRIPLE"))
        e = caught.exception
        self.assertEqual((e.status, e.status_name, e.field), (7, "UMS_ERR_VALIDATION", "walletOption"))
        self.assertIn("walletOption", str(e))
        self.assertTrue(e.nothing_sent)
        self.assertFalse(e.outcome_unknown)

    def test_invalid_json_text(self) -> None:
        for text in ["{not json", "[1, 2]"]:
            with self.assertRaises(ValidationError) as caught:
                self.client.update_qrcode(text)
            self.assertEqual(caught.exception.status_name, "UMS_ERR_INVALID_JSON")

    def test_invalid_utf8(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            self.client.update_qrcode(b'{"qrCodeId":"\xff"}')
        self.assertEqual(caught.exception.status_name, "UMS_ERR_INVALID_UTF8")

    def test_nul_and_wrong_types_are_refused_here(self) -> None:
        with self.assertRaises(ValidationError):
            self.client.update_qrcode('{"a":"\0"}')
        with self.assertRaises(TypeError):
            self.client.update_qrcode(42)  # type: ignore[arg-type]
        with self.assertRaises(ValidationError) as caught:
            self.client.prepare("update-qrcode", self.new_bill(), timestamp="2026")
        self.assertEqual(caught.exception.status_name, "UMS_ERR_INVALID_ARGUMENT")

    def test_duplicate_bill_is_rejected(self) -> None:
        request = self.new_bill()
        self.client.update_qrcode(request)
        with self.assertRaises(GatewayRejectedError) as caught:
            self.client.update_qrcode(request)
        e = caught.exception
        self.assertEqual((e.err_code, e.http_status), ("DUP_ORDER", 200))
        self.assertTrue(e.err_msg)
        self.assertEqual(e.response["errCode"], "DUP_ORDER")
        self.assertFalse(e.nothing_sent)
        self.assertIn("DUP_ORDER", str(e))

    def test_every_error_has_the_same_attributes_and_a_full_message(self) -> None:
        from chinaums import errors
        names = ("status", "status_name", "kind", "message", "document", "phase", "nothing_sent",
                 "outcome_unknown", "field", "err_code", "err_msg", "http_status", "response",
                 "state_field", "state", "settled", "reason")
        for status in list(errors.STATUS_NAMES)[1:] + [12345]:
            e = errors.error_from_status(status)
            for name in names:
                self.assertTrue(hasattr(e, name), (type(e).__name__, name))
            self.assertTrue(e.kind, status)  # from the status name when the document has none
        self.assertEqual(errors.error_from_status(13).reason, "bad_signature")
        self.assertIsNone(errors.error_from_status(10).reason)
        # The gateway's errCode and errMsg are both in the message.
        e = errors.error_from_status(10, {
            "status": "UMS_ERR_GATEWAY_REJECTED", "kind": "gateway_rejected",
            "message": "the gateway rejected the request with BAD_SIGN", "errCode": "BAD_SIGN",
            "errMsg": "签名错误", "httpStatus": 200})
        self.assertEqual(str(e), "gateway_rejected: the gateway rejected the request with BAD_SIGN "
                                 "(errCode BAD_SIGN: 签名错误) (HTTP 200)")
        # The field is named even when the message does not mention it.
        e = errors.error_from_status(7, {"kind": "validation", "message": "too long",
                                         "field": "billDesc"})
        self.assertEqual(str(e), "validation: too long (field 'billDesc')")
        # Errors made by the binding itself are local, nothing sent.
        with self.assertRaises(ValidationError) as caught:
            self.client.update_qrcode('{"a":"\0"}')
        e = caught.exception
        self.assertEqual((e.status_name, e.kind, e.phase, e.nothing_sent, e.outcome_unknown),
                         ("UMS_ERR_INVALID_JSON", "invalid_json", "local", True, False))
        closed = chinaums.Client(support.sandbox_config())
        closed.close()
        with self.assertRaises(ClientClosedError) as caught:
            closed.new_id()
        e = caught.exception
        self.assertEqual((e.kind, e.phase, e.nothing_sent, e.outcome_unknown),
                         ("client_closed", "local", True, False))
        self.assertEqual(str(e), "client_closed: the client is closed")

    def test_unknown_qrcode_is_no_order(self) -> None:
        with self.assertRaises(GatewayRejectedError) as caught:
            self.client.update_qrcode(dict(self.new_bill(), qrCodeId="31940000000000000000000009"))
        self.assertEqual(caught.exception.err_code, "NO_ORDER")

    def test_config_error_names_the_key(self) -> None:
        with self.assertRaises(ConfigError) as caught:
            chinaums.Client(support.sandbox_config(colour="blue"))
        self.assertEqual(caught.exception.field, "colour")
        self.assertEqual(caught.exception.status_name, "UMS_ERR_CONFIG")

    def test_no_default_gateway_nor_credentials(self) -> None:
        # No embedded simulator, no default environment, no demo app.
        configs: list = [None, {}, "{}"]
        for config in configs:
            with self.subTest(config=config):
                with self.assertRaises(ConfigError) as caught:
                    chinaums.Client(config)
                self.assertIn(caught.exception.field, ("environment", "appId"))
        credentials = {"appId": support.DEMO_APP_ID, "appKey": support.DEMO_APP_KEY}
        with self.assertRaises(ConfigError) as caught:
            chinaums.Client(credentials)
        self.assertEqual(caught.exception.field, "environment")
        self.assertIn("required", caught.exception.message)
        with self.assertRaises(ConfigError) as caught:
            chinaums.Client(credentials, environment="sandbox")
        self.assertEqual(caught.exception.field, "environment")
        for key in ("appId", "appKey"):
            with self.subTest(missing=key):
                config = support.sandbox_config()
                del config[key]
                with self.assertRaises(ConfigError) as caught:
                    chinaums.Client(config)
                self.assertEqual(caught.exception.field, key)
        self.assertNotIn(support.DEMO_APP_KEY, str(caught.exception))

    def test_from_environment(self) -> None:
        # from_environment=True → "fromEnvironment": true: the library fills
        # the keys the configuration leaves out from the UMS_* variables.
        env = {"UMS_ENVIRONMENT": support.sandbox_url(), "UMS_APP_ID": support.DEMO_APP_ID,
               "UMS_APP_KEY": support.DEMO_APP_KEY, "UMS_MID": MID, "UMS_TID": TID,
               "UMS_MSG_SRC_ID": support.MSG_SRC_ID}
        with mock.patch.dict(os.environ, env):
            with chinaums.Client(from_environment=True) as c:
                self.assertEqual((c.info["baseUrl"], c.info["appId"]),
                                 (support.sandbox_url(), support.DEMO_APP_ID))
                answer = c.update_qrcode({"qrCodeId": SEED_QR, "billNo": c.new_id(),
                                          "billDate": today(), "totalAmount": 26})
                self.assertEqual((answer["errCode"], answer["mid"], answer["tid"]),
                                 ("SUCCESS", MID, TID))
            # A key the configuration gives wins when the variable agrees...
            with chinaums.Client(from_environment=True, app_id=support.DEMO_APP_ID) as c:
                self.assertEqual(c.info["appId"], support.DEMO_APP_ID)
            # ...and a variable that says otherwise is an error naming the key.
            with self.assertRaises(ConfigError) as caught:
                chinaums.Client(from_environment=True, app_key="0" * 32)
            self.assertEqual(caught.exception.field, "appKey")
            text = str(caught.exception) + json.dumps(caught.exception.document)
            self.assertNotIn(support.DEMO_APP_KEY, text)
            self.assertNotIn("0" * 32, text)
            with self.assertRaises(ConfigError) as caught:
                chinaums.Client(from_environment=True, environment="production")
            self.assertEqual(caught.exception.field, "environment")
        # Without the flag the variables are not read.
        with mock.patch.dict(os.environ, env), self.assertRaises(ConfigError):
            chinaums.Client()

    def test_keyword_config_uses_python_names(self) -> None:
        with self.assertRaises(ConfigError) as caught:
            chinaums.Client(support.sandbox_config(), connect_timeout_ms=0)
        self.assertEqual(caught.exception.field, "connectTimeoutMs")
        with chinaums.Client({"environment": "https://gateway.invalid", "appId": "x", "appKey": "k"},
                             app_id="from-kwargs", auth="token") as c:
            self.assertEqual((c.info["appId"], c.info["auth"]), ("from-kwargs", "token"))
            self.assertEqual(c.info["baseUrl"], "https://gateway.invalid")
        with chinaums.Client('{"environment":"https://gateway.invalid","appId":"j","appKey":"k"}') as c:
            self.assertEqual(c.info["appId"], "j")

    def test_transport_error_when_nothing_listens(self) -> None:
        with chinaums.Client(support.local_config(1)) as c:
            with self.assertRaises(TransportError) as caught:
                c.update_qrcode(self.new_bill())
        e = caught.exception
        self.assertNotIsInstance(e, TlsError)
        self.assertEqual(e.status_name, "UMS_ERR_CONNECT")
        self.assertTrue(e.nothing_sent)

    def test_tls_error_from_a_plain_tcp_server(self) -> None:
        # The server reads the ClientHello, then answers plain text: the
        # handshake fails deterministically, before any request is sent.
        with support.garbage_server() as server:
            config = support.local_config(server.port, environment="https://127.0.0.1:%d" % server.port)
            with chinaums.Client(config) as c:
                with self.assertRaises(TlsError) as caught:
                    c.update_qrcode(self.new_bill())
        e = caught.exception
        self.assertIsInstance(e, TransportError)
        self.assertNotIsInstance(e, OutcomeUnknownError)
        self.assertTrue(e.nothing_sent)
        self.assertFalse(e.outcome_unknown)

    def test_outcome_unknown_when_the_server_hangs_up(self) -> None:
        with support.hang_up_server() as server:
            with chinaums.Client(support.local_config(server.port)) as c:
                with self.assertRaises(OutcomeUnknownError) as caught:
                    c.update_qrcode(self.new_bill())
            self.assertEqual(len(server.requests), 1, "a money-moving call must not be resent")
        e = caught.exception
        self.assertTrue(e.outcome_unknown)
        self.assertFalse(e.nothing_sent)

    def test_outcome_unknown_on_a_gateway_timeout_code(self) -> None:
        with support.json_server({"errCode": "TIMEOUT", "errMsg": "超时"}) as server:
            with chinaums.Client(support.local_config(server.port)) as c:
                with self.assertRaises(OutcomeUnknownError) as caught:
                    c.update_qrcode(self.new_bill())
        self.assertEqual(caught.exception.err_code, "TIMEOUT")
        self.assertEqual(caught.exception.response, {"errCode": "TIMEOUT", "errMsg": "超时"})

    def test_token_rejected_is_a_gateway_rejection_without_secrets(self) -> None:
        wrong_key = "0123456789abcdef0123456789abcdef"
        config = {"environment": self.client.info["baseUrl"], "appId": support.DEMO_APP_ID,
                  "appKey": wrong_key, "auth": "token", "mid": MID, "tid": TID}
        with chinaums.Client(config) as c:
            with self.assertRaises(GatewayRejectedError) as caught:
                c.update_qrcode(self.new_bill())
        e = caught.exception
        self.assertEqual(e.status_name, "UMS_ERR_TOKEN_REJECTED")
        self.assertNotIn(wrong_key, str(e) + json.dumps(e.document) + repr(c))

    def test_secrets_never_in_errors(self) -> None:
        secret_name = "张秘密"
        with self.assertRaises(ValidationError) as caught:
            self.client.update_qrcode(dict(self.new_bill(), name=secret_name, fixBuyer="T"))
        e = caught.exception
        text = str(e) + json.dumps(e.document, ensure_ascii=False)
        self.assertNotIn(secret_name, text)
        self.assertNotIn(support.DEMO_APP_KEY, text)
        self.assertNotIn(support.DEMO_APP_KEY, repr(self.client) + json.dumps(self.client.info))

    def test_status_mapping(self) -> None:
        from chinaums import errors
        expected = {
            1: errors.ValidationError, 2: errors.ValidationError, 3: errors.ValidationError,
            5: errors.ValidationError, 6: errors.ConfigError, 7: errors.ValidationError,
            8: errors.TransportError, 9: errors.TlsError, 10: errors.GatewayRejectedError,
            11: errors.OutcomeUnknownError, 12: errors.GatewayRejectedError,
            13: errors.BadSignatureError, 14: errors.MissingSignError,
            15: errors.UnknownSignTypeError, 16: errors.DuplicateFieldError,
            17: errors.MalformedNotificationError, 18: errors.PendingError,
            19: errors.OperationFailedError, 20: errors.AnswerGoneError, 98: errors.InternalError,
            99: errors.InternalError, 12345: errors.InternalError,
        }
        for status, cls in expected.items():
            e = errors.error_from_status(status, {"message": "m"})
            self.assertIs(type(e), cls, status)
            self.assertIsInstance(e, UmsError)
            self.assertEqual(e.status, status)
        for status in range(13, 18):
            self.assertIsInstance(errors.error_from_status(status), errors.NotificationError)
        for status, name in errors.STATUS_NAMES.items():
            self.assertTrue(chinaums.status_str(status), name)
        self.assertEqual(errors.error_from_status(99).status_name, "UMS_ERR_PANIC")
        # A kept answer that is gone: its outcome is unknown (query first).
        self.assertTrue(issubclass(errors.AnswerGoneError, errors.OutcomeUnknownError))
        pending = errors.error_from_status(18, {
            "status": "UMS_ERR_PENDING", "message": "m", "settled": False,
            "stateField": "refundStatus", "state": "PROCESSING",
            "response": {"errCode": "SUCCESS", "refundStatus": "PROCESSING"}})
        self.assertIsInstance(pending, errors.PendingError)
        self.assertEqual((pending.state_field, pending.state, pending.settled),
                         ("refundStatus", "PROCESSING", False))
        self.assertEqual(pending.response, {"errCode": "SUCCESS", "refundStatus": "PROCESSING"})
        failed = errors.error_from_status(19, {"stateField": "refundStatus", "state": "FAIL"})
        self.assertEqual((failed.state_field, failed.state), ("refundStatus", "FAIL"))
        for status in (18, 19, 20):
            self.assertIn(status, errors.STATUS_NAMES)
            self.assertNotEqual(chinaums.status_str(status), "unknown status value", status)


class RefundStateTest(SandboxTestCase):
    """A refund the gateway accepted but has not settled (refundStatus
    PROCESSING) is PendingError; one that failed (FAIL) OperationFailedError.
    The simulator's `refund-processing` / `refund-fail` faults, queued for the
    next refund (POST /_sandbox/faults), make those answers."""

    def paid_bill(self) -> dict:
        bill = {"billNo": self.client.new_id(), "billDate": today(), "totalAmount": 100}
        created = self.client.get_qrcode(bill)
        status, paid = support.sandbox_post(self.client.info["baseUrl"], "/_sandbox/pay",
                                            {"qrCodeId": created["qrCodeId"], "amount": 100})
        self.assertEqual(status, 200, paid)
        return bill

    def queue_fault(self, fault: str) -> None:
        status, answer = support.sandbox_post(
            self.client.info["baseUrl"], "/_sandbox/faults",
            {"path": "/v1/netpay/bills/refund", "fault": fault})
        if status == 400 and "fault" in json.dumps(answer):
            self.skipTest("the simulator does not know the fault %r yet: %r" % (fault, answer))
        self.assertEqual(status, 200, answer)

    def test_refund_processing_is_pending(self) -> None:
        bill = self.paid_bill()
        refund_id = self.client.new_id()
        self.queue_fault("refund-processing")
        with self.assertRaises(PendingError) as caught:
            self.client.refund({"billNo": bill["billNo"], "billDate": bill["billDate"],
                                "refundAmount": 30, "refundOrderId": refund_id})
        e = caught.exception
        self.assertEqual(e.status, 18)
        self.assertEqual((e.state_field, e.state, e.settled), ("refundStatus", "PROCESSING", False))
        self.assertIsNotNone(e.response)
        assert e.response is not None
        self.assertEqual(e.response["errCode"], "SUCCESS")
        self.assertEqual(e.response["refundStatus"], "PROCESSING")
        self.assertFalse(e.nothing_sent)
        # Query until final (never resend): the refund was made.
        answer = self.client.query_bill({"billNo": bill["billNo"], "billDate": bill["billDate"],
                                         "refundOrderId": refund_id})
        self.assertEqual(answer["errCode"], "SUCCESS")

    def test_refund_fail_is_operation_failed(self) -> None:
        bill = self.paid_bill()
        self.queue_fault("refund-fail")
        with self.assertRaises(OperationFailedError) as caught:
            self.client.refund({"billNo": bill["billNo"], "billDate": bill["billDate"],
                                "refundAmount": 30, "refundOrderId": self.client.new_id()})
        e = caught.exception
        self.assertEqual(e.status, 19)
        self.assertEqual((e.state_field, e.state, e.settled), ("refundStatus", "FAIL", True))
        assert e.response is not None
        self.assertEqual(e.response["refundStatus"], "FAIL")


class BuffersTest(SandboxTestCase):
    def setUp(self) -> None:
        self.saved = _native.initial_buffer_size

    def tearDown(self) -> None:
        _native.initial_buffer_size = self.saved

    def test_small_buffer_gets_the_answer_without_resending(self) -> None:
        before = self.requests_to("/v1/netpay/bills/update-qrcode")
        _native.initial_buffer_size = 16  # the binding still starts at UMS_MIN_OUT_CAP
        request = self.new_bill()
        answer = self.client.update_qrcode(request)  # a resend would be DUP_ORDER
        self.assertEqual(answer["billNo"], request["billNo"])
        self.assertEqual(self.requests_to("/v1/netpay/bills/update-qrcode"), before + 1)
        # A rejection's error document takes the same path.
        with self.assertRaises(GatewayRejectedError) as caught:
            self.client.update_qrcode(request)
        self.assertEqual(caught.exception.err_code, "DUP_ORDER")
        self.assertEqual(self.requests_to("/v1/netpay/bills/update-qrcode"), before + 2)

    def test_small_buffer_takes_the_kept_answer_by_id(self) -> None:
        # The answer does not fit the first buffer: the binding takes the
        # answer kept for this call with ums_take_answer, never calling the
        # operation again (the simulator sees one request).
        _native.initial_buffer_size = _native.UMS_MIN_OUT_CAP
        path = "/v1/netpay/bills/get-qrcode"
        before = self.requests_to(path)
        calls = []
        lib = _native.library()
        original = lib.ums_take_answer

        def spy(*args):  # type: ignore[no-untyped-def]
            calls.append(args[1])
            return original(*args)

        lib.ums_take_answer = spy
        try:
            answer = self.client.get_qrcode({"totalAmount": 3})
        finally:
            lib.ums_take_answer = original
        self.assertEqual(answer["errCode"], "SUCCESS")
        self.assertGreater(len(json.dumps(answer)), _native.UMS_MIN_OUT_CAP)
        self.assertEqual(self.requests_to(path), before + 1)
        self.assertEqual(len(calls), 1)
        self.assertRegex(calls[0].decode(), r"^[0-9a-f]{32}$")

    def _kept_get_qrcode(self) -> tuple:
        """get-qrcode through the ctypes layer with a UMS_MIN_OUT_CAP buffer:
        (answerId, needed)."""
        lib = _native.library()
        buf = ctypes.create_string_buffer(_native.UMS_MIN_OUT_CAP)
        length = ctypes.c_size_t(0)
        with self.client._borrow() as handle:
            status = lib.ums_get_qrcode(handle, b"{}", buf, _native.UMS_MIN_OUT_CAP,
                                        ctypes.byref(length))
        self.assertEqual(status, _native.UMS_ERR_BUFFER_TOO_SMALL)
        note = json.loads(buf.value.decode())
        self.assertEqual(note["status"], "UMS_ERR_BUFFER_TOO_SMALL")
        self.assertEqual(note["needed"], length.value + 1)
        self.assertEqual(note["answerStatus"], "UMS_OK")
        return note["answerId"], note["needed"]

    def _take(self, answer_id: str, cap: int) -> tuple:
        lib = _native.library()
        buf = ctypes.create_string_buffer(cap)
        length = ctypes.c_size_t(0)
        with self.client._borrow() as handle:
            status = lib.ums_take_answer(handle, answer_id.encode(), buf, cap, ctypes.byref(length))
        return status, buf.value.decode(), length.value

    def test_a_taken_answer_id_is_gone(self) -> None:
        path = "/v1/netpay/bills/get-qrcode"
        before = self.requests_to(path)
        answer_id, needed = self._kept_get_qrcode()
        # Still too small: kept, same id, same size.
        status, note, length = self._take(answer_id, 64)
        self.assertEqual(status, _native.UMS_ERR_BUFFER_TOO_SMALL)
        self.assertEqual(length + 1, needed)
        status, text, length = self._take(answer_id, needed)
        self.assertEqual(status, 0)
        self.assertEqual(json.loads(text)["errCode"], "SUCCESS")
        status, text, _ = self._take(answer_id, 4096)
        self.assertEqual(status, 20)
        with self.assertRaises(AnswerGoneError) as caught:
            _native._document(status, text)
        e = caught.exception
        self.assertIsInstance(e, OutcomeUnknownError)
        self.assertEqual((e.outcome_unknown, e.nothing_sent, e.phase), (True, False, "sent"))
        self.assertEqual(e.status_name, "UMS_ERR_ANSWER_GONE")
        self.assertEqual(self.requests_to(path), before + 1, "takes never send")

    def test_below_the_minimum_capacity_nothing_is_sent(self) -> None:
        lib = _native.library()
        before = self.requests_to("/v1/netpay/bills/get-qrcode")
        for cap in (0, 1, 100, _native.UMS_MIN_OUT_CAP - 1):
            buf = ctypes.create_string_buffer(max(cap, 1))
            length = ctypes.c_size_t(0)
            with self.client._borrow() as handle:
                status = lib.ums_get_qrcode(handle, b"{}", buf if cap else None, cap,
                                            ctypes.byref(length))
            self.assertEqual((status, length.value), (4, _native.UMS_MIN_OUT_CAP - 1), cap)
            if cap > 69:
                self.assertEqual(json.loads(buf.value.decode()),
                                 {"status": "UMS_ERR_BUFFER_TOO_SMALL", "needed": 256,
                                  "nothingSent": True})
        self.assertEqual(self.requests_to("/v1/netpay/bills/get-qrcode"), before)

    def test_small_buffer_for_local_results(self) -> None:
        _native.initial_buffer_size = 1
        self.assertEqual(len(self.client.new_id()), 28)
        prepared = self.client.prepare("update-qrcode", self.new_bill())
        self.assertIn("OPEN-BODY-SIG", prepared["authorization"])

    def test_large_answer(self) -> None:
        big = {"errCode": "SUCCESS", "errMsg": "大", "items": ["条目%06d" % i for i in range(30000)]}
        with support.json_server(big) as server:
            with chinaums.Client(support.local_config(server.port)) as c:
                answer = c.call("/v1/custom/large", {"a": 1})
            self.assertEqual(len(server.requests), 1, "the retry must not resend")
        self.assertEqual(answer, big)
        self.assertGreater(len(json.dumps(big, ensure_ascii=False).encode()), 4 * 64 * 1024)

    def test_small_answer(self) -> None:
        with support.json_server({"errCode": "SUCCESS"}) as server:
            with chinaums.Client(support.local_config(server.port)) as c:
                self.assertEqual(c.call("/v1/custom/small", {}), {"errCode": "SUCCESS"})


class ThreadsTest(SandboxTestCase):
    def test_many_threads_share_one_client(self) -> None:
        threads, per_thread = 24, 4
        results: list = []
        errors: list = []
        lock = threading.Lock()
        start = threading.Barrier(threads)

        def work() -> None:
            start.wait()
            for _ in range(per_thread):
                request = self.new_bill()
                try:
                    answer = self.client.update_qrcode(request)
                except Exception as e:  # collected, asserted below
                    with lock:
                        errors.append(e)
                    continue
                with lock:
                    results.append((request["billNo"], answer["billNo"], answer["errCode"]))

        pool = [threading.Thread(target=work) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), threads * per_thread)
        self.assertTrue(all(sent == got and code == "SUCCESS" for sent, got, code in results))
        self.assertEqual(len({r[0] for r in results}), threads * per_thread)

    def test_close_waits_for_a_call_in_progress(self) -> None:
        with support.json_server({"errCode": "SUCCESS", "n": 1}, delay_until_released=True) as server:
            client = chinaums.Client(support.local_config(server.port))
            outcome: dict = {}

            def slow_call() -> None:
                outcome["answer"] = client.call("/v1/custom/slow", {"a": 1})
                outcome["finished"] = time.monotonic()

            t = threading.Thread(target=slow_call)
            t.start()
            self.assertTrue(server.received.wait(10))
            # The server answers only once close() is waiting for the call.
            waited: list = []
            original_wait = client._cond.wait

            def wait_then_release(timeout=None):  # type: ignore[no-untyped-def]
                waited.append(True)
                server.release.set()
                return original_wait(timeout)

            client._cond.wait = wait_then_release  # type: ignore[method-assign]
            client.close()  # must wait for slow_call, not free under it
            self.assertTrue(waited, "close() did not wait for the call in progress")
            closed_at = time.monotonic()
            t.join(10)
            self.assertEqual(outcome["answer"], {"errCode": "SUCCESS", "n": 1})
            self.assertLessEqual(outcome["finished"], closed_at)
            self.assertTrue(client.closed)
            with self.assertRaises(ClientClosedError):
                client.call("/v1/custom/slow", {"a": 1})

    def test_closing_while_threads_call(self) -> None:
        client = chinaums.Client(support.sandbox_config())
        outcomes: list = []
        lock = threading.Lock()
        every_thread_called = threading.Barrier(17)

        def work() -> None:
            first = True
            while True:  # until the client is closed under it
                try:
                    client.new_id()
                    client.prepare("update-qrcode", self.new_bill())
                    kind = "ok"
                except ClientClosedError:
                    kind = "closed"
                except Exception as e:  # anything else is a failure
                    kind = repr(e)
                with lock:
                    outcomes.append(kind)
                if first:
                    first = False
                    every_thread_called.wait(30)
                if kind == "closed":
                    return

        pool = [threading.Thread(target=work) for _ in range(16)]
        for t in pool:
            t.start()
        every_thread_called.wait(30)  # each thread made one call: close under them now
        client.close()
        client.close()
        for t in pool:
            t.join(30)
        self.assertFalse(any(t.is_alive() for t in pool))
        self.assertEqual(set(outcomes) - {"ok", "closed"}, set())
        self.assertEqual(outcomes.count("closed"), 16)  # every thread saw the close
        self.assertGreater(outcomes.count("ok"), 0)


class LifecycleTest(unittest.TestCase):
    def test_context_manager_and_idempotent_close(self) -> None:
        with chinaums.Client(support.sandbox_config()) as c:
            self.assertFalse(c.closed)
            self.assertEqual(len(c.new_id()), 28)
            self.assertIn("open", repr(c))
        self.assertTrue(c.closed)
        self.assertIn("closed", repr(c))
        c.close()
        c.close()
        for call in (c.new_id, lambda: c.update_qrcode({}), lambda: c.sign_body(b"x"),
                     lambda: c.token_request(), lambda: c.prepare("update-qrcode", {})):
            with self.assertRaises(ClientClosedError) as caught:
                call()
            self.assertIsInstance(caught.exception, ValidationError)

    def test_context_manager_closes_on_exception(self) -> None:
        with self.assertRaises(RuntimeError):
            with chinaums.Client(support.sandbox_config()) as c:
                raise RuntimeError("boom")
        self.assertTrue(c.closed)

    def test_del_is_safe(self) -> None:
        for _ in range(20):
            c = chinaums.Client(support.sandbox_config())
            c.new_id()
            del c
        try:
            chinaums.Client({"bogus": True})  # half-built: __del__ must cope
        except ConfigError:
            pass
        gc.collect()
        with chinaums.Client(support.sandbox_config()) as c:
            self.assertEqual(len(c.new_id()), 28)


if __name__ == "__main__":
    unittest.main()
