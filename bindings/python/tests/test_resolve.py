"""Client.resolve() and Client.journal_pending(): a refund whose answer is
lost (the simulator applies it, then closes the connection) raises
OutcomeUnknownError; the journal lists it; resolve(error) answers applied
and closes the entry."""

import os
import shutil
import tempfile
import unittest

import support
from support import today

import chinaums
from chinaums.errors import ConfigError, OutcomeUnknownError


class ResolveTest(unittest.TestCase):
    def test_resolve_an_outcome_unknown_refund_from_its_error(self) -> None:
        directory = tempfile.mkdtemp(prefix="ums-py-journal-")
        self.addCleanup(shutil.rmtree, directory, True)
        url = support.sandbox_url()
        config = support.sandbox_config(resolvable=True,
                                        journal=os.path.join(directory, "journal.sqlite"))
        with chinaums.Client(config) as client:
            bill = {"billNo": client.new_id(), "billDate": today(), "totalAmount": 100}
            code = client.get_qrcode(bill)
            status, paid = support.sandbox_post(url, "/_sandbox/pay", {"qrCodeId": code["qrCodeId"]})
            self.assertEqual(status, 200, paid)
            status, answer = support.sandbox_post(url, "/_sandbox/faults", {
                "path": "/v1/netpay/bills/refund", "fault": "close-after-body"})
            self.assertEqual(status, 200, answer)
            with self.assertRaises(OutcomeUnknownError) as caught:
                client.refund({"billNo": bill["billNo"], "billDate": bill["billDate"],
                               "refundAmount": 30})
            pending = client.journal_pending()
            self.assertEqual(len(pending), 1, pending)
            self.assertEqual(pending[0]["operation"], "refund")
            verdict = client.resolve(caught.exception)
            self.assertEqual(verdict["verdict"], "applied", verdict)
            self.assertFalse(verdict["safeToResend"])
            self.assertTrue(verdict["journalClosed"])
            self.assertEqual(client.journal_pending(), [])
        with chinaums.Client(support.sandbox_config()) as plain:
            with self.assertRaises(ConfigError):
                plain.journal_pending()


if __name__ == "__main__":
    unittest.main()
