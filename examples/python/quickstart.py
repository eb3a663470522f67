"""Quick start: update the seed QR code with a new bill against the ums-sandbox
simulator, and print the gateway's answer.

    make lib
    target/release/ums-sandbox --port 0 &      # prints: ums-sandbox listening on http://127.0.0.1:PORT
    UMS_ENVIRONMENT=http://127.0.0.1:PORT UMS_LIBRARY=target/release/libums.so \\
        PYTHONPATH=bindings/python/src python3 examples/python/quickstart.py
"""
import datetime
import json
import os
import sys

from chinaums import Client, OutcomeUnknownError, UmsError

BEIJING = datetime.timezone(datetime.timedelta(hours=8))

# Where to send: the URL the simulator printed. The library has no default
# gateway; for the real one: Client(environment="production", app_id=...,
# app_key=..., mid=..., tid=..., msg_src_id=...).
environment = os.environ.get("UMS_ENVIRONMENT")
if not environment:
    print("set UMS_ENVIRONMENT to the URL `ums-sandbox --port 0` prints "
          "(ums-sandbox listening on http://127.0.0.1:PORT)", file=sys.stderr)
    sys.exit(64)

# The simulator's demo app and merchant (public values that ums-sandbox prints).
with Client(environment=environment,
            app_id="10037e6f66f2d0f901672aa27d690006",
            app_key="47ace12ae3b348fe93ab46cee97c6fde",
            mid="898340149000005", tid="00000001", msg_src_id="3194") as client:
    request = {
        "qrCodeId": "31942002267733902130410550",
        "billNo": client.new_id(),  # a fresh bill number: the same one twice is DUP_ORDER
        "billDate": datetime.datetime.now(BEIJING).strftime("%Y-%m-%d"),
        "totalAmount": 26,  # fen
        "goods": [{"goodsId": "001", "goodsName": "鸡蛋", "quantity": "10", "price": "1"}],
    }
    try:
        answer = client.update_qrcode(request)
    except OutcomeUnknownError as e:
        # Money may have moved: query the bill, never resend.
        print("outcome unknown:", e, file=sys.stderr)
        sys.exit(2)
    except UmsError as e:
        print("failed:", e, file=sys.stderr)
        sys.exit(1)
    print(json.dumps(answer, ensure_ascii=False))
    print("errCode:", answer["errCode"], "billQRCode:", answer.get("billQRCode"))
