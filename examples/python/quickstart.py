"""Quick start: update the seed QR code with a new bill against the simulator
embedded in libums, and print the gateway's answer.

    make lib
    UMS_LIBRARY=target/release/libums.so PYTHONPATH=bindings/python/src python3 examples/python/quickstart.py
"""
import datetime
import json
import sys

from chinaums import Client, OutcomeUnknownError, UmsError

BEIJING = datetime.timezone(datetime.timedelta(hours=8))

# "sandbox" starts the simulator inside this process with its demo app;
# for the real gateway: Client(environment="production", app_id=..., app_key=..., ...).
with Client(environment="sandbox", mid="898340149000005", tid="00000001", msg_src_id="3194") as client:
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
