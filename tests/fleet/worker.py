"""One worker process of the fleet test (tests/fleet/run.py), through the
Python binding (bindings/python/src on PYTHONPATH, libums from UMS_LIBRARY).

    python3 worker.py ID CALLS_PER_PHASE BILL_NO BILL_DATE AMOUNT
    environment: FLEET_CONFIG = the client configuration (JSON text)

Same protocol as worker.c: prints "ready ID", then for each "phase K" line
on stdin makes CALLS_PER_PHASE calls (get-qrcode of the one-off bill first,
bills/query of it after) and prints
"done K ok=N failed=N unauthorized=N err=<first error or ->"; exits 0 at
the end of stdin, prints "fatal <why>" and exits 1 on anything else.

    python3 worker.py --make-bills COUNT NOTIFY_URL BILL_DATE PREFIX

makes COUNT one-off bills whose notifyUrl is NOTIFY_URL (bill numbers
PREFIX + 7 digits) for the notification scenario and prints
"bills <qrCodeId>:<billNo>:<amount> ..." on one line.
"""

import json
import os
import sys

from chinaums import Client
from chinaums.errors import UmsError


def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def one_line(error):
    doc = json.dumps(getattr(error, "document", None) or {"message": str(error)},
                     ensure_ascii=False, separators=(",", ":"))
    return ("status=%s %s" % (getattr(error, "status", "?"), doc))[:420]


def make_bills(count, notify_url, bill_date, prefix):
    made = []
    with Client(json.loads(os.environ["FLEET_CONFIG"])) as client:
        for i in range(count):
            bill_no = "%s%07d" % (prefix, i)
            answer = client.get_qrcode({"billNo": bill_no, "billDate": bill_date,
                                        "totalAmount": 100 + i, "notifyUrl": notify_url})
            made.append("%s:%s:%d" % (answer["qrCodeId"], bill_no, 100 + i))
    say("bills " + " ".join(made))
    return 0


def main(argv):
    if len(argv) == 5 and argv[0] == "--make-bills":
        return make_bills(int(argv[1]), argv[2], argv[3], argv[4])
    if len(argv) != 5 or "FLEET_CONFIG" not in os.environ:
        say("fatal usage: worker.py ID CALLS_PER_PHASE BILL_NO BILL_DATE AMOUNT (FLEET_CONFIG set)")
        return 1
    worker_id, calls, bill_no, bill_date, amount = argv[0], int(argv[1]), argv[2], argv[3], int(argv[4])
    try:
        client = Client(json.loads(os.environ["FLEET_CONFIG"]))
    except UmsError as e:
        say("fatal client " + one_line(e))
        return 1
    say("ready " + worker_id)
    create = {"billNo": bill_no, "billDate": bill_date, "totalAmount": amount,
              "billDesc": "fleet worker " + worker_id}
    query = {"billNo": bill_no, "billDate": bill_date}
    have_bill = False
    with client:
        while True:
            line = sys.stdin.readline()
            if not line:
                return 0
            line = line.strip()
            if not line.startswith("phase "):
                say("fatal unknown command")
                return 1
            ok = failed = unauthorized = 0
            first_error = None
            for _ in range(calls):
                creating = not have_bill
                try:
                    if creating:
                        client.get_qrcode(create)
                        have_bill = True
                    else:
                        client.query_bill(query)
                    ok += 1
                except UmsError as e:
                    failed += 1
                    if e.http_status == 401:
                        unauthorized += 1
                    if first_error is None:
                        first_error = one_line(e)
                    # Made by an earlier attempt whose answer was lost.
                    if creating and e.err_code == "DUP_ORDER":
                        have_bill = True
            say("done %s ok=%d failed=%d unauthorized=%d err=%s"
                % (line[6:], ok, failed, unauthorized, first_error or "-"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
