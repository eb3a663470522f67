"""The official-SDK adapter, the seed sample and the quick start, against
the ums-sandbox simulator."""

import json
import os
import subprocess
import sys
import unittest
from typing import Any
from unittest import mock

import support
from support import MID, SEED_QR, TID, today

import chinaums
from chinaums.compat import DefaultOpenApiClient
from chinaums.errors import ConfigError, GatewayRejectedError, ValidationError

URL = "https://api-mop.chinaums.com/v1/netpay/bills/update-qrcode"


class DataRequest(object):
    """The official Python sample's request class (its URL arithmetic kept)."""

    def __init__(self, data, url=URL, need_token=True, need_data_tag=False):
        self.data = data
        self.serviceCode = url[len(url.split("/v")[0]) + len(url.split("/")[3]) + 1: len(url)]
        self.apiVersion = url.split("/")[3]
        self.needToken = need_token
        self.needDataTag = need_data_tag


def bill(client: chinaums.Client) -> dict:
    return {"mid": MID, "tid": TID, "instMid": "QRPAYDEFAULT",
            "qrCodeId": SEED_QR, "billNo": client.new_id(), "billDate": today(), "totalAmount": "26"}


def clean_env(**variables: str) -> Any:
    """os.environ without any UMS_* configuration variable, plus ``variables``
    (the library reads the process environment, so this reaches it)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("UMS_") or k in ("UMS_LIBRARY", "UMS_SANDBOX")}
    env.update(variables)
    return mock.patch.dict(os.environ, env, clear=True)


def demo_adapter(**kwargs: Any) -> DefaultOpenApiClient:
    return DefaultOpenApiClient(support.DEMO_APP_ID, support.DEMO_APP_KEY, **kwargs)


class AdapterTest(unittest.TestCase):
    url: str
    ids: chinaums.Client

    @classmethod
    def setUpClass(cls) -> None:
        cls.url = support.sandbox_url()
        cls.ids = chinaums.Client(support.sandbox_config())

    @classmethod
    def tearDownClass(cls) -> None:
        cls.ids.close()

    def stats(self) -> dict:
        return support.sandbox_stats(self.url)

    def test_service_path_of_the_sample_request(self) -> None:
        request = DataRequest({})
        self.assertEqual((request.serviceCode, request.apiVersion), ("/netpay/bills/update-qrcode", "v1"))
        from chinaums.compat import _service_path
        self.assertEqual(_service_path(request), "/v1/netpay/bills/update-qrcode")
        self.assertEqual(_service_path({"serviceCode": "netpay/bills/query", "apiVersion": "v1"}),
                         "/v1/netpay/bills/query")
        self.assertEqual(_service_path({"url": URL}), "/v1/netpay/bills/update-qrcode")
        with self.assertRaises(ValidationError):
            _service_path({"url": "https://api-mop.chinaums.com"})

    def test_environment_written_in_the_code(self) -> None:
        client = DefaultOpenApiClient("id", "key")
        # What the code implies (the library's "environmentDefault") ...
        self.assertEqual(client._gateway(DataRequest({})), ("environmentDefault", "production"))
        self.assertEqual(client.environment_for(DataRequest({})), "production")
        self.assertEqual(client._gateway({"url": URL}), ("environmentDefault", "production"))
        self.assertEqual(client._gateway({"url": "https://test-api-open.chinaums.com"}),
                         ("environmentDefault", "test"))
        # ... and what it names (the library's "environment").
        self.assertEqual(client._gateway({"url": "https://gw.example.com:8443/v1/x"}),
                         ("environment", "https://gw.example.com:8443"))
        self.assertEqual(client._gateway({"url": "https://api-mop.chinaums.com:8443/v1/x"}),
                         ("environment", "https://api-mop.chinaums.com:8443"))  # another port
        self.assertEqual(client._gateway({"url": "http://api-mop.chinaums.com/v1/x"}),
                         ("environment", "http://api-mop.chinaums.com"))  # plain http
        named = DefaultOpenApiClient("i", "k", environment="test")
        self.assertEqual(named._gateway({}), ("environment", "test"))
        self.assertEqual(named._gateway({"url": URL}), ("environmentDefault", "production"))

    def test_where_requests_go(self) -> None:
        # Nothing is sent here: client_for only builds the Client.
        with clean_env(), demo_adapter() as client:  # neither code nor variable: production
            self.assertEqual(client.client_for(DataRequest({})).info["baseUrl"], support.PRODUCTION_URL)
            self.assertEqual(client.client_for({"url": "https://test-api-open.chinaums.com/v1/x"})
                             .info["baseUrl"], "https://test-api-open.chinaums.com")
        with clean_env(UMS_ENVIRONMENT=self.url), demo_adapter() as client:
            # An implied gateway (no URL, an official host) is replaced by the simulator.
            self.assertEqual(client.client_for(DataRequest({})).info["baseUrl"], self.url)
            self.assertEqual(client.client_for({"url": URL}).info["baseUrl"], self.url)
            # A URL the code names: the variable may repeat it, not change it.
            self.assertEqual(client.client_for({"url": self.url + "/v1/x"}).info["baseUrl"], self.url)
            with self.assertRaises(ConfigError) as caught:
                client.client_for({"url": "https://gw.example.com/v1/x"})
            self.assertEqual(caught.exception.field, "environment")
            self.assertIn("UMS_ENVIRONMENT", caught.exception.message)
        # Only the simulator (a loopback URL) may replace an implied gateway.
        for variable in ("test", "production", "https://gw.example.com", "http://10.0.0.1:80"):
            for request in (DataRequest({}), {"url": "https://test-api-open.chinaums.com/v1/x"}):
                with self.subTest(variable), clean_env(UMS_ENVIRONMENT=variable), demo_adapter() as client:
                    with self.assertRaises(ConfigError) as caught:
                        client.client_for(request)
                    self.assertEqual(caught.exception.field, "environment")
        with clean_env(UMS_ENVIRONMENT=self.url), demo_adapter(environment="test") as client:
            with self.assertRaises(ConfigError) as caught:
                client.client_for(DataRequest({}))
            self.assertEqual(caught.exception.field, "environment")
        with clean_env(UMS_ENVIRONMENT="test"), demo_adapter(environment="test") as client:
            self.assertEqual(client.client_for(DataRequest({})).info["baseUrl"],
                             "https://test-api-open.chinaums.com")  # named, and repeated

    def test_sandbox_is_not_an_environment(self) -> None:
        # No special case: the library refuses the word, the adapter reports it.
        with clean_env(UMS_ENVIRONMENT="sandbox"), demo_adapter() as client:
            with self.assertRaises(ConfigError) as caught:
                client.execute(DataRequest(bill(self.ids)))
        self.assertEqual(caught.exception.field, "environment")
        self.assertNotIn("says otherwise", caught.exception.message)  # the variable's own error

    def test_execute_against_the_simulator(self) -> None:
        before = self.stats()
        with clean_env(UMS_ENVIRONMENT=self.url), demo_adapter() as client:
            data = bill(self.ids)
            answer = client.execute(DataRequest(data, need_token=True))
            self.assertEqual(answer["errCode"], "SUCCESS")
            self.assertEqual(answer["billNo"], data["billNo"])
            # JSON text data (the PHP sample's json_encode) and body signatures.
            data2 = bill(self.ids)
            answer = client.execute(DataRequest(json.dumps(data2), need_token=False))
            self.assertEqual(answer["billNo"], data2["billNo"])
            # The official sample's envelope (needDataTag): the simulator unwraps it.
            data3 = bill(self.ids)
            answer = client.execute(DataRequest(data3, need_data_tag=True))
            self.assertEqual((answer["errCode"], answer["billNo"]), ("SUCCESS", data3["billNo"]))
        after = self.stats()
        self.assertEqual(after["tokensIssued"], before["tokensIssued"] + 1)  # needToken → token
        self.assertEqual(after["requests"]["/v1/netpay/bills/update-qrcode"],
                         before["requests"].get("/v1/netpay/bills/update-qrcode", 0) + 3)

    def test_gateway_answers_are_returned_like_the_official_sdk(self) -> None:
        with clean_env(UMS_ENVIRONMENT=self.url):
            data = bill(self.ids)
            with demo_adapter() as client:
                self.assertEqual(client.execute(DataRequest(data))["errCode"], "SUCCESS")
                again = client.execute(DataRequest(data))
                self.assertEqual(again["errCode"], "DUP_ORDER")
                self.assertTrue(again["errMsg"])
            with demo_adapter(strict=True) as client:
                with self.assertRaises(GatewayRejectedError) as caught:
                    client.execute(DataRequest(data))
                self.assertEqual(caught.exception.err_code, "DUP_ORDER")

    def test_local_failures_raise(self) -> None:
        with clean_env(UMS_ENVIRONMENT=self.url), demo_adapter() as client:
            with self.assertRaises(ValidationError) as caught:
                client.execute(DataRequest(dict(bill(self.ids), walletOption="TRIPLE")))
            self.assertEqual(caught.exception.field, "walletOption")
            with self.assertRaises(ValidationError):
                client.execute(DataRequest("{not json"))

    def test_credentials_from_the_code_and_the_environment(self) -> None:
        demo = {"UMS_ENVIRONMENT": self.url, "UMS_APP_ID": support.DEMO_APP_ID,
                "UMS_APP_KEY": support.DEMO_APP_KEY}
        # Variables that agree with the code are fine.
        with clean_env(**demo), demo_adapter() as client:
            self.assertEqual(client.execute(DataRequest(bill(self.ids)))["errCode"], "SUCCESS")
        # Credentials left out of the code come from the variables.
        with clean_env(**demo), DefaultOpenApiClient(None, None) as client:
            self.assertEqual(client.execute(DataRequest(bill(self.ids)))["errCode"], "SUCCESS")
        # Variables that contradict the code: a config error naming the key, nothing sent.
        before = self.stats()
        for key, variable, code in (("appId", "UMS_APP_ID", ("another-app", support.DEMO_APP_KEY)),
                                    ("appKey", "UMS_APP_KEY", (support.DEMO_APP_ID, "1" * 32))):
            with self.subTest(key), clean_env(**demo), DefaultOpenApiClient(*code) as client:
                with self.assertRaises(ConfigError) as caught:
                    client.execute(DataRequest(bill(self.ids)))
                e = caught.exception
                self.assertEqual(e.field, key)
                self.assertIn(variable, e.message)
                text = str(e) + json.dumps(e.document)
                self.assertNotIn(support.DEMO_APP_KEY, text)
                self.assertNotIn("1" * 32, text)
        self.assertEqual(self.stats()["requests"], before["requests"])
        # No variables: the (wrong) key given in the code is used.
        with clean_env(UMS_ENVIRONMENT=self.url), \
                DefaultOpenApiClient(support.DEMO_APP_ID, "0" * 32, strict=True) as client:
            with self.assertRaises(GatewayRejectedError) as caught2:
                client.execute(DataRequest(bill(self.ids)))
            self.assertEqual(caught2.exception.status_name, "UMS_ERR_TOKEN_REJECTED")

    def test_other_keys_from_the_environment(self) -> None:
        env = {"UMS_ENVIRONMENT": self.url, "UMS_MID": MID, "UMS_TID": TID,
               "UMS_MSG_SRC_ID": support.MSG_SRC_ID}
        with clean_env(**env), demo_adapter() as client:
            data: dict = {"instMid": "QRPAYDEFAULT", "qrCodeId": SEED_QR,
                    "billNo": client.client_for({}).new_id(),  # msgSrcId from UMS_MSG_SRC_ID
                    "billDate": today(), "totalAmount": 26}
            answer = client.execute(DataRequest(data))
            self.assertEqual((answer["errCode"], answer["mid"], answer["tid"]), ("SUCCESS", MID, TID))
            self.assertTrue(data["billNo"].startswith(support.MSG_SRC_ID))
        # Keyword arguments of the constructor are code too: they win, and agree here.
        with clean_env(**env), demo_adapter(mid=MID) as client:
            self.assertEqual(client.execute(DataRequest(bill(self.ids)))["errCode"], "SUCCESS")
        with clean_env(**env), demo_adapter(mid=support.SECOND_MID) as client:
            with self.assertRaises(ConfigError) as caught:
                client.execute(DataRequest(bill(self.ids)))
            self.assertEqual(caught.exception.field, "mid")
        with clean_env(UMS_ENVIRONMENT=self.url, UMS_TIMEOUT_MS="soon"), demo_adapter() as client:
            with self.assertRaises(ConfigError) as caught:
                client.execute(DataRequest(bill(self.ids)))
            self.assertEqual(caught.exception.field, "timeoutMs")

    def test_need_data_tag_sends_the_envelope(self) -> None:
        with support.json_server({"errCode": "SUCCESS"}) as server:
            env = {"UMS_ENVIRONMENT": "http://127.0.0.1:%d" % server.port}
            with clean_env(**env), DefaultOpenApiClient("app", "key") as client:
                data = bill(self.ids)
                self.assertEqual(client.execute(DataRequest(data, need_token=False, need_data_tag=True)),
                                 {"errCode": "SUCCESS"})
                client.execute(DataRequest(data, need_token=False, need_data_tag=False))
            sent = [json.loads(r.split(b"\r\n\r\n", 1)[1]) for r in server.requests]
        self.assertEqual(list(sent[0]), ["data"])
        self.assertEqual(sent[0]["data"]["billNo"], data["billNo"])
        self.assertEqual(sent[0]["data"]["totalAmount"], 26)
        self.assertEqual(sent[1]["billNo"], data["billNo"])
        self.assertIn(b"OPEN-BODY-SIG", server.requests[0])


class ExamplesTest(unittest.TestCase):
    """The examples as a user runs them: subprocesses with UMS_ENVIRONMENT
    set to a simulator's URL (and no other UMS_* configuration variable)."""

    def run_example(self, name: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, os.path.join(support.EXAMPLES, name)],
                              env=support.subprocess_env(**env), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)

    def test_seed_sample(self) -> None:
        # Its billNo is the page's fixed "8888": a simulator of its own, so
        # the first run is the first use of that number.
        with support.Simulator() as simulator:
            out = self.run_example("update_qrcode_sdk_sample.py", UMS_ENVIRONMENT=simulator.url)
            self.assertEqual(out.returncode, 0, out.stderr)
            lines = out.stdout.splitlines()
            self.assertEqual(len(lines), 5, out.stdout)
            self.assertEqual(lines[1], "SUCCESS", out.stdout)
            stats = support.sandbox_stats(simulator.url)
            self.assertEqual(stats["requests"]["/v1/netpay/bills/update-qrcode"], 1)
            self.assertEqual(stats["tokensIssued"], 1)  # needToken = True
            # Run again: the same billNo, answered as the official SDK would.
            again = self.run_example("update_qrcode_sdk_sample.py", UMS_ENVIRONMENT=simulator.url)
            self.assertEqual(again.returncode, 0, again.stderr)
            self.assertEqual(again.stdout.splitlines()[1], "DUP_ORDER", again.stdout)

    def test_seed_sample_refuses_another_gateway(self) -> None:
        # The sample implies production: UMS_ENVIRONMENT may only replace it
        # with the simulator ("sandbox" is not an environment at all).
        for variable in ("test", "sandbox"):
            with self.subTest(variable):
                out = self.run_example("update_qrcode_sdk_sample.py", UMS_ENVIRONMENT=variable)
                self.assertNotEqual(out.returncode, 0, out.stdout)
                self.assertIn("ConfigError", out.stderr)
                self.assertIn("environment", out.stderr)
                self.assertNotIn(support.DEMO_APP_KEY, out.stderr + out.stdout)

    def test_quickstart(self) -> None:
        out = self.run_example("quickstart.py", UMS_ENVIRONMENT=support.sandbox_url())
        self.assertEqual(out.returncode, 0, out.stderr)
        answer = json.loads(out.stdout.splitlines()[0])
        self.assertEqual(answer["errCode"], "SUCCESS")
        self.assertIn("errCode: SUCCESS", out.stdout)

    def test_quickstart_needs_the_url(self) -> None:
        out = self.run_example("quickstart.py")
        self.assertEqual(out.returncode, 64, out.stdout + out.stderr)
        self.assertIn("UMS_ENVIRONMENT", out.stderr)
        self.assertEqual(out.stdout, "")


if __name__ == "__main__":
    unittest.main()
