"""Beyond one process: notification claims (claim_notification /
release_notification) and a callback token store (Client(token_store=obj))."""

import threading
import unittest
from typing import Dict, Optional, Tuple

import support
from support import SEED_QR, today

import chinaums
from chinaums.errors import ClientClosedError, ValidationError


class ClaimTest(unittest.TestCase):
    def test_memory_claims(self) -> None:
        with chinaums.Client(support.sandbox_config(claimStore="memory")) as c:
            self.assertEqual(c.info["claimStore"], "memory")
            self.assertIs(c.claim_notification("notify-1"), True)
            self.assertIs(c.claim_notification("notify-1"), False)
            self.assertIs(c.claim_notification("notify-2"), True)
            self.assertIsNone(c.release_notification("notify-1"))
            self.assertIs(c.claim_notification("notify-1"), True)
            self.assertIs(c.claim_notification("notify-1"), False)

    def test_unreachable_redis_falls_back_to_memory(self) -> None:
        # Port 1 on loopback: nothing listens, the connection is refused.
        config = support.sandbox_config(claimStore="redis://127.0.0.1:1/0")
        with chinaums.Client(config) as c:
            self.assertEqual(c.info["claimStore"], "redis://127.0.0.1:1/0")
            self.assertIs(c.claim_notification("down-1"), True)
            self.assertIs(c.claim_notification("down-1"), False)
            c.release_notification("down-1")
            self.assertIs(c.claim_notification("down-1"), True)

    def test_bad_notify_ids_are_validation_errors(self) -> None:
        with chinaums.Client(support.sandbox_config()) as c:
            for bad in ("", "has space", "x" * 129, "中文"):
                with self.assertRaises(ValidationError, msg=repr(bad)):
                    c.claim_notification(bad)
                with self.assertRaises(ValidationError, msg=repr(bad)):
                    c.release_notification(bad)
            with self.assertRaises(ValidationError):
                c.claim_notification("nul\0inside")
            with self.assertRaises(TypeError):
                c.claim_notification(None)  # type: ignore[arg-type]
            self.assertIs(c.claim_notification("x" * 128), True)

    def test_claims_with_a_small_initial_buffer(self) -> None:
        saved = chinaums._native.initial_buffer_size
        chinaums._native.initial_buffer_size = 8
        try:
            with chinaums.Client(support.sandbox_config()) as c:
                self.assertIs(c.claim_notification("small-buf"), True)
                self.assertIs(c.claim_notification("small-buf"), False)
                c.release_notification("small-buf")
                self.assertIs(c.claim_notification("small-buf"), True)
        finally:
            chinaums._native.initial_buffer_size = saved

    def test_closed_client(self) -> None:
        c = chinaums.Client(support.sandbox_config())
        c.close()
        with self.assertRaises(ClientClosedError):
            c.claim_notification("after-close")
        with self.assertRaises(ClientClosedError):
            c.release_notification("after-close")

    def test_one_claim_among_threads(self) -> None:
        with chinaums.Client(support.sandbox_config()) as c:
            results: list = []
            barrier = threading.Barrier(8)

            def claim() -> None:
                barrier.wait()
                results.append(c.claim_notification("raced"))

            threads = [threading.Thread(target=claim) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(sorted(results), [False] * 7 + [True])


class DictStore:
    """A token store over a dict shared by several clients (as a memcached
    or database would be shared by several processes)."""

    def __init__(self, data: Dict[str, Tuple[str, int]], lock: threading.Lock) -> None:
        self.data = data
        self.lock = lock
        self.calls: Dict[str, int] = {"get": 0, "put": 0, "invalidate": 0}

    def get(self) -> Optional[Tuple[str, int]]:
        with self.lock:
            self.calls["get"] += 1
            return self.data.get("token")

    def put(self, token: str, expires_at_unix_ms: int) -> None:
        with self.lock:
            self.calls["put"] += 1
            self.data["token"] = (token, expires_at_unix_ms)

    def invalidate(self, token: str) -> None:
        with self.lock:
            self.calls["invalidate"] += 1
            if self.data.get("token", ("",))[0] == token:
                del self.data["token"]


class FailingStore:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.calls = 0

    def get(self) -> Optional[Tuple[str, int]]:
        self.calls += 1
        raise self.exc

    def put(self, token: str, expires_at_unix_ms: int) -> None:
        self.calls += 1
        raise self.exc

    def invalidate(self, token: str) -> None:
        self.calls += 1
        raise self.exc


class BadAnswerStore:
    """get() answers nonsense: wrong shapes, too long, not ASCII."""

    answers = [("", 10 ** 13), ("x" * 5000, 10 ** 13), ("令牌", 10 ** 13), "not a tuple",
               ("tok", "not a number"), ("tok", 0)]

    def __init__(self) -> None:
        self.i = 0

    def get(self) -> object:
        answer = self.answers[self.i % len(self.answers)]
        self.i += 1
        return answer

    def put(self, token: str, expires_at_unix_ms: int) -> None:
        pass

    def invalidate(self, token: str) -> None:
        pass


def bill(client: chinaums.Client) -> dict:
    return {"qrCodeId": SEED_QR, "billNo": client.new_id(), "billDate": today(),
            "totalAmount": "26"}


class CallbackTokenStoreTest(unittest.TestCase):
    sim: support.Simulator

    def setUp(self) -> None:
        # A fresh simulator per test: its token counter starts at zero.
        self.sim = support.Simulator()

    def tearDown(self) -> None:
        self.sim.stop()

    def tokens_issued(self) -> int:
        return int(support.sandbox_stats(self.sim.url)["tokensIssued"])

    def test_two_clients_share_one_token(self) -> None:
        data: Dict[str, Tuple[str, int]] = {}
        lock = threading.Lock()
        store_a, store_b = DictStore(data, lock), DictStore(data, lock)
        with chinaums.Client(self.sim.config(auth="token"), token_store=store_a) as a, \
                chinaums.Client(self.sim.config(auth="token"), token_store=store_b) as b:
            self.assertEqual(a.info["tokenStore"], "callback")
            for client in (a, b, a, b):
                self.assertEqual(client.update_qrcode(bill(client))["errCode"], "SUCCESS")
            self.assertEqual(self.tokens_issued(), 1)
            self.assertEqual(store_a.calls["put"], 1)
            self.assertEqual(store_b.calls["put"], 0)
            self.assertGreaterEqual(store_b.calls["get"], 1)
            self.assertIn("token", data)
            token, expires = data["token"]
            self.assertTrue(token)
            self.assertGreater(expires, 10 ** 12)  # Unix milliseconds
        stats = support.sandbox_stats(self.sim.url)
        per_app = stats.get("perApp", {}).get(a.info["appId"])
        if per_app is not None:
            self.assertEqual(per_app["tokensIssued"], 1)

    def test_a_store_that_raises_never_fails_a_call(self) -> None:
        for exc in (RuntimeError("store down"), KeyError("x"), KeyboardInterrupt()):
            store = FailingStore(exc)
            with chinaums.Client(self.sim.config(auth="token"), token_store=store) as c:
                for _ in range(3):
                    self.assertEqual(c.update_qrcode(bill(c))["errCode"], "SUCCESS")
            self.assertGreaterEqual(store.calls, 1)

    def test_a_store_with_bad_answers_never_fails_a_call(self) -> None:
        store = BadAnswerStore()
        with chinaums.Client(self.sim.config(auth="token"), token_store=store) as c:
            for _ in range(3):
                self.assertEqual(c.update_qrcode(bill(c))["errCode"], "SUCCESS")

    def test_the_store_must_have_the_three_methods(self) -> None:
        class NoInvalidate:
            def get(self) -> None:
                return None

            def put(self, token: str, expires: int) -> None:
                pass

        with self.assertRaises(TypeError):
            chinaums.Client(self.sim.config(auth="token"), token_store=NoInvalidate())

    def test_a_redis_token_store_is_refused_with_callbacks(self) -> None:
        with self.assertRaises(chinaums.errors.ConfigError):
            chinaums.Client(self.sim.config(auth="token", tokenStore="redis://127.0.0.1:1/0"),
                            token_store=DictStore({}, threading.Lock()))

    def test_a_string_token_store_is_still_the_config_key(self) -> None:
        with chinaums.Client(self.sim.config(auth="token"), token_store="memory") as c:
            self.assertEqual(c.info["tokenStore"], "memory")

    def test_the_callbacks_live_as_long_as_the_client(self) -> None:
        import gc
        data: Dict[str, Tuple[str, int]] = {}
        c = chinaums.Client(self.sim.config(auth="token"),
                            token_store=DictStore(data, threading.Lock()))
        gc.collect()
        try:
            for _ in range(2):
                self.assertEqual(c.update_qrcode(bill(c))["errCode"], "SUCCESS")
            self.assertIn("token", data)
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
