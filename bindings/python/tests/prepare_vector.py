"""Prints ums_prepare's result for a fixed request, timestamp and nonce as one
JSON line, for the cross-language byte-identity check (every binding prints
the same line). Run: PYTHONPATH=bindings/python/src python3 bindings/python/tests/prepare_vector.py"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
if "UMS_LIBRARY" not in os.environ:
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    os.environ["UMS_LIBRARY"] = os.path.join(repo, "target", "release", "libums.so")

from chinaums import Client  # noqa: E402

CONFIG = {"environment": "https://gateway.invalid", "appId": "10037e6f66f2d0f901672aa27d690006",
          "appKey": "47ace12ae3b348fe93ab46cee97c6fde", "mid": "898340149000005", "tid": "00000001"}
# JSON text, passed as is so that every language sends the same key order.
REQUEST = ('{"qrCodeId":"31942002267733902130410550","billNo":"31940000000000000000000001",'
           '"billDate":"2026-01-02","totalAmount":"26",'
           '"goods":"[{\\"goodsId\\":\\"001\\",\\"goodsName\\":\\"鸡蛋\\",\\"quantity\\":\\"10\\",\\"price\\":\\"1\\"}]",'
           '"name":"张*三"}')
TIMESTAMP = "20260102030405"
NONCE = "0123456789abcdef0123456789abcdef"


def main() -> None:
    with Client(CONFIG) as client:
        prepared = client.prepare("update-qrcode", REQUEST, TIMESTAMP, NONCE)
    sys.stdout.write(json.dumps(prepared, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
